import Foundation

/// A value guarded by its own lock, for a flag or counter that several threads read and set.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    /// Holds `value`.
    init(_ value: Value) { stored = value }

    /// The value (read or replaced under the lock).
    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
