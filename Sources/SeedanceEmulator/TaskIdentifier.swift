// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Task ids in the providers' shapes: the gateway's `task_` + 26-character ULID, Ark's `cgt-YYYYMMDDhhmmss-xxxxx`.
enum TaskIdentifier {
    private static let crockford = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// `task_01K8SGYNNNVBQTXNR4MM964S7K`: 48-bit milliseconds then 80 random bits, Crockford base32.
    static func gateway(now: Double, random: inout some RandomNumberGenerator) -> String {
        var out: [UInt8] = Array("task_".utf8)
        let millis = UInt64(max(0, now * 1000))
        for index in (0..<10).reversed() { out.append(crockford[Int((millis >> UInt64(5 * index)) & 31)]) }
        for _ in 0..<16 { out.append(crockford[Int(random.next() & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `cgt-20250612153000-a1b2c`.
    static func ark(now: Double, random: inout some RandomNumberGenerator) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let suffix = (0..<5).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
        return "cgt-\(formatter.string(from: Date(timeIntervalSince1970: now)))-\(String(decoding: suffix, as: UTF8.self))"
    }

    /// Whether `id` has the gateway shape.
    static func isGateway(_ id: String) -> Bool {
        guard id.hasPrefix("task_"), id.utf8.count == 31 else { return false }
        return id.utf8.dropFirst(5).allSatisfy { crockford.contains($0) }
    }
}

/// SplitMix64: small, fast and reproducible from a seed, which is all fault injection needs.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        guard p < 1 else { return true }
        return Double(next() >> 11) / Double(1 << 53) < p
    }
}
