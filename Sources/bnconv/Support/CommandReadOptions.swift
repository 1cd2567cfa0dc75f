import BNConv
import Foundation

/// The read options every command reads its files with: the library's defaults, except the cap on
/// one tensor, which the `BNCONV_MAX_TENSOR_BYTES` environment variable may set (a positive byte
/// count; anything else leaves the default), the cap on declared bytes per byte of file
/// (`BNCONV_MAX_EXPANSION`, a positive factor), the cap on a graph's nodes (`BNCONV_MAX_NODES`), and the size from which `fold --no-verify` leaves
/// weights in the file (`BNCONV_DEFER_BYTES`).
enum CommandReadOptions {
    /// The options for this process, from its environment.
    static let current = ReadOptions(limits: limits(environment: ProcessInfo.processInfo.environment))

    /// `BNCONV_DEFER_BYTES`: the size from which `fold --no-verify` leaves a weight in the input
    /// file (a byte count; 0 defers every weight, which is how the tests reach the deferred paths
    /// with small fixtures); 64 KiB when unset or not a count.
    static var deferredMinimumBytes: Int {
        if let text = ProcessInfo.processInfo.environment["BNCONV_DEFER_BYTES"], let value = Int(text), value >= 0 { return value }
        return WriteStrategy.defaultDeferredMinimumBytes
    }

    /// The limits `environment` asks for.
    static func limits(environment: [String: String]) -> ReadLimits {
        var limits = ReadLimits()
        // A positive integer sets the limit; anything else leaves the default.
        func set(_ name: String, _ limit: WritableKeyPath<ReadLimits, Int>) {
            if let text = environment[name], let value = Int(text), value > 0 { limits[keyPath: limit] = value }
        }
        set("BNCONV_MAX_TENSOR_BYTES", \.maxTensorBytes)
        set("BNCONV_MAX_EXPANSION", \.maxExpansion)
        set("BNCONV_MAX_NODES", \.maxNodes)
        return limits
    }
}
