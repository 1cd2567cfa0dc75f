/// The source of a deferred tensor computed from another one (``Tensor/mapped(dtype:shape:_:)``,
/// ``Tensor/mappedBytes(dtype:shape:_:)``, ``Tensor/mappedBytes(dtype:shape:writing:)``): loading it
/// lends the base's bytes to the computation and keeps neither.
public final class MappedTensorSource: TensorSource {
    /// The tensor the result is computed from (usually deferred itself).
    public let base: Tensor
    /// The computation, from the base's raw bytes to the result's.
    private let transform: Transform

    /// How the result's bytes are made.
    private enum Transform {
        /// Returned as a new array.
        case returning(@Sendable (UnsafeRawBufferPointer) throws -> [UInt8])
        /// Written into room of the result's size (`count` bytes).
        case writing(count: Int, @Sendable (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> Void)
    }

    /// A source that yields `transform(base's bytes)`.
    public init(base: Tensor, transform: @escaping @Sendable (UnsafeRawBufferPointer) throws -> [UInt8]) {
        self.base = base
        self.transform = .returning(transform)
    }

    /// A source of `count` bytes that `transform` writes from the base's bytes into the room it is given.
    public init(base: Tensor, count: Int, writing transform: @escaping @Sendable (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> Void) {
        self.base = base
        self.transform = .writing(count: count, transform)
    }

    /// Whether the base can be read on another thread (the computation itself is `@Sendable`).
    public var loadsConcurrently: Bool { base.loadsConcurrently }

    /// Lends the base's bytes to the computation and returns its result.
    public func loadBytes() throws -> [UInt8] {
        switch transform {
        case .returning(let body):
            return try base.withUnsafeBytes { try body($0) }
        case .writing(let count, _):
            return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                try load(into: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
        }
    }

    /// Computes the result straight into `destination` when the computation writes (no copy).
    public func load(into destination: UnsafeMutableRawBufferPointer) throws {
        switch transform {
        case .returning(let body):
            let bytes = try base.withUnsafeBytes { try body($0) }
            guard bytes.count == destination.count else { throw TensorSourceError.byteCount(expected: destination.count, actual: bytes.count) }
            bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
        case .writing(let count, let body):
            guard count == destination.count else { throw TensorSourceError.byteCount(expected: destination.count, actual: count) }
            try base.withUnsafeBytes { try body($0, destination) }
        }
    }
}
