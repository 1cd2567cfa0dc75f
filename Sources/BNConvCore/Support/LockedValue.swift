import Synchronization

/// A value guarded by its own lock, for a flag or counter that several threads read and set.
final class LockedValue<Value: Sendable>: Sendable {
    private let stored: Mutex<Value>

    /// Holds `value`.
    init(_ value: Value) { stored = Mutex(value) }

    /// The value (read or replaced under the lock).
    var value: Value {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
