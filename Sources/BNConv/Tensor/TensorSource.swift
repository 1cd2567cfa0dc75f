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

    /// Whether ``loadBytes()`` and ``withBytes(_:)`` may run on another thread while the caller
    /// goes on: they touch nothing that is not thread-safe (the serial libhdf5 is not). False
    /// unless a source says otherwise.
    var loadsConcurrently: Bool { get }
}

extension TensorSource {
    /// Loads the bytes and lends them to `body`.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try loadBytes().withUnsafeBytes(body)
    }

    /// By default a source is read on the thread that uses the model only.
    public var loadsConcurrently: Bool { false }
}
