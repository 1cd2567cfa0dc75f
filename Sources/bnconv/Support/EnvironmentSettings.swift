import Foundation
import BNConv

/// The environment variables the command line honours (the library reads none).
enum EnvironmentSettings {
    /// `BNCONV_DEFER_BYTES`: the size from which `fold --no-verify` leaves a weight in the input
    /// file (a byte count; 0 defers every weight, which is how the tests reach the deferred paths
    /// with small fixtures); 64 KiB when unset or not a count.
    static var deferredMinimumBytes: Int {
        if let text = ProcessInfo.processInfo.environment["BNCONV_DEFER_BYTES"], let value = Int(text), value >= 0 { return value }
        return WriteStrategy.defaultDeferredMinimumBytes
    }
}
