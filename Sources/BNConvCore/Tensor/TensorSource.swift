/// Where a deferred ``Tensor``'s bytes come from: a dataset of a file that stays open, or a
/// computation on another tensor (``MappedTensorSource``).
///
/// Readers make sources so that weights a pass never changes are not held in memory, and writers
/// may recognise their own sources to copy the stored data without decoding it.
public protocol TensorSource: AnyObject, Sendable {
    /// Reads the tensor's raw little-endian bytes in C order (`count * dtype.byteCount` of them).
    /// Each call reads anew; nothing is kept.
    func loadBytes() throws -> [UInt8]

    /// Calls `body` with the raw bytes, valid only during the call. A source that can lend them
    /// without a copy (a read-only mapping of the file) does so; by default they are loaded.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R

    /// Writes the raw bytes into `destination`, which holds exactly as many. A source that
    /// computes them (a folded kernel) writes them there directly; by default they are lent by
    /// ``withBytes(_:)`` and copied.
    func load(into destination: UnsafeMutableRawBufferPointer) throws

    /// Whether ``loadBytes()``, ``withBytes(_:)`` and ``load(into:)`` may run on another thread while the caller
    /// goes on: they touch nothing that is not thread-safe (the serial libhdf5 is not). False
    /// unless a source says otherwise.
    var loadsConcurrently: Bool { get }

    /// Whether ``withBytes(_:)`` lends bytes that are already somewhere (a mapping of the file)
    /// rather than made for the call: a reader that needs the bytes often reads them in place
    /// then, and otherwise has them written into a buffer it keeps (``load(into:)``). False unless
    /// a source says otherwise.
    var lendsInPlace: Bool { get }
}

extension TensorSource {
    /// Loads the bytes and lends them to `body`.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try loadBytes().withUnsafeBytes(body)
    }

    /// Copies the bytes lent by ``withBytes(_:)`` into `destination` (a different count throws).
    public func load(into destination: UnsafeMutableRawBufferPointer) throws {
        try withBytes { raw in
            guard raw.count == destination.count else { throw TensorSourceError.byteCount(expected: destination.count, actual: raw.count) }
            destination.copyMemory(from: raw)
        }
    }

    /// By default a source is read on the thread that uses the model only.
    public var loadsConcurrently: Bool { false }

    /// By default a source makes the bytes it lends.
    public var lendsInPlace: Bool { false }
}

/// A source that yielded another number of bytes than asked for.
public enum TensorSourceError: Error, CustomStringConvertible {
    /// `load(into:)` was given room for `expected` bytes and the source has `actual`.
    case byteCount(expected: Int, actual: Int)

    /// A one-line description.
    public var description: String {
        switch self {
        case let .byteCount(expected, actual): return "the source holds \(actual) bytes where \(expected) were expected"
        }
    }
}
