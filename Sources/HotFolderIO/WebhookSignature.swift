// SPDX-License-Identifier: GPL-2.0-or-later
import Crypto
import Foundation

/// The `X-Hotfolder-Signature` header of a webhook: `sha256=` and the lowercase hex HMAC-SHA256 of the raw body,
/// keyed with the target's shared secret. A receiver recomputes it over the bytes it got and compares.
public enum WebhookSignature {
    /// The header's name.
    public static let header = "X-Hotfolder-Signature"

    /// The header's value for `body` signed with `secret`.
    public static func value(body: Data, secret: Data) -> String {
        let code = HMAC<Crypto.SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }
}
