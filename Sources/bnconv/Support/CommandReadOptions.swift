import BNConv
import Foundation

/// The read options every command reads its files with: the library's defaults, except the cap on
/// one tensor, which the `BNCONV_MAX_TENSOR_BYTES` environment variable may set (a positive byte
/// count; anything else leaves the default).
enum CommandReadOptions {
    /// The options for this process, from its environment.
    static let current = ReadOptions(limits: limits(environment: ProcessInfo.processInfo.environment))

    /// The limits `environment` asks for.
    static func limits(environment: [String: String]) -> ReadLimits {
        if let text = environment["BNCONV_MAX_TENSOR_BYTES"], let value = Int(text), value > 0 {
            return ReadLimits(maxTensorBytes: value)
        }
        return ReadLimits()
    }
}
