import Foundation

/// A command's `--json` result: one pretty-printed JSON object with sorted keys (the README's
/// stable schema), non-finite numbers written as the strings "inf", "-inf" and "nan".
protocol JSONSummary: Encodable {}

extension JSONSummary {
    /// The summary as the JSON text the command prints.
    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
