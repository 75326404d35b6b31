// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

/// A generator that always returns the same bits, for exact jitter.
struct FixedGenerator: RandomNumberGenerator {
    var value: UInt64
    mutating func next() -> UInt64 { value }
}

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, base: .seconds(2), maxDelay: .seconds(20))

    @Test func ceilingDoublesUpToTheCap() {
        #expect(policy.ceiling(afterAttempts: 1) == .seconds(2))
        #expect(policy.ceiling(afterAttempts: 2) == .seconds(4))
        #expect(policy.ceiling(afterAttempts: 3) == .seconds(8))
        #expect(policy.ceiling(afterAttempts: 4) == .seconds(16))
        #expect(policy.ceiling(afterAttempts: 5) == .seconds(20))
        #expect(policy.ceiling(afterAttempts: 500) == .seconds(20), "no overflow for huge attempt numbers")
    }

    @Test func fullJitterScalesTheCeiling() {
        #expect(policy.delay(afterAttempts: 3) { 0.5 } == .seconds(4))
        #expect(policy.delay(afterAttempts: 3) { 0 } == .zero)
        #expect(policy.delay(afterAttempts: 3) { 1 } == .seconds(8))
        #expect(policy.delay(afterAttempts: 3) { 7 } == .seconds(8), "out-of-range random values are clamped")
    }

    @Test func attemptsAreBounded() {
        #expect(policy.allowsRetry(afterAttempts: 4))
        #expect(!policy.allowsRetry(afterAttempts: 5))
        #expect(policy.delay(afterAttempts: 5) { 0.5 } == nil)
        #expect(RetryPolicy(maxAttempts: 1).delay(afterAttempts: 1) { 0.5 } == nil)
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }

    @Test func retryAfterIsAFloor() {
        #expect(policy.delay(afterAttempts: 1, retryAfter: .seconds(30)) { 0.9 } == .seconds(30))
        #expect(policy.delay(afterAttempts: 4, retryAfter: .seconds(1)) { 0.5 } == .seconds(8))
    }

    @Test func injectedGeneratorDrivesTheJitter() {
        var low = FixedGenerator(value: 0)
        var high = FixedGenerator(value: .max)
        #expect(policy.delay(afterAttempts: 2, using: &low) == .zero)
        let top = policy.delay(afterAttempts: 2, using: &high)
        #expect(top != nil && top! <= .seconds(4) && top! > .seconds(3.9))
        for attempt in 1...4 {
            let delay = policy.delay(afterAttempts: attempt)!
            #expect(delay >= .zero && delay <= policy.ceiling(afterAttempts: attempt))
        }
    }
}
