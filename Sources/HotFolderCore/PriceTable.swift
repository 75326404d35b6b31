// SPDX-License-Identifier: GPL-2.0-or-later

/// US dollars per million output tokens, per model.
///
/// The defaults are the third-party figures in `spec/seedance-api.md` §5 (the gateway's own price is not
/// published); operators set their real prices in the config.
public struct PriceTable: Sendable, Hashable, Codable {
    /// Price per million tokens for each model.
    public var perMillionTokens: [SeedanceModel: Double]

    /// Creates a table; models missing from `perMillionTokens` fall back to ``default``.
    public init(perMillionTokens: [SeedanceModel: Double]) {
        self.perMillionTokens = perMillionTokens
    }

    /// Fast 0.6, quality 2.5 US$ per million tokens.
    public static let `default` = PriceTable(perMillionTokens: [.fast: 0.6, .quality: 2.5])

    /// The price per million tokens of a model.
    public func price(for model: SeedanceModel) -> Double {
        perMillionTokens[model] ?? PriceTable.default.perMillionTokens[model] ?? 0
    }

    /// Tokens and cost of one clip.
    public func estimate(model: SeedanceModel, resolution: Resolution, ratio: AspectRatio, duration: Int)
        -> CostEstimate
    {
        let tokens = VideoSize.of(resolution, ratio).tokens(durationSeconds: duration)
        return CostEstimate(tokens: tokens, cost: Double(tokens) * price(for: model) / 1_000_000)
    }
}
