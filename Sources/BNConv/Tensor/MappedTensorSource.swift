/// The source of a deferred tensor computed from another one (``Tensor/mapped(dtype:shape:_:)``,
/// ``Tensor/mappedBytes(dtype:shape:_:)``): loading it lends the base's bytes to the computation
/// and keeps neither.
public final class MappedTensorSource: TensorSource {
    /// The tensor the result is computed from (usually deferred itself).
    public let base: Tensor
    /// The computation, from the base's raw bytes to the result's.
    private let transform: @Sendable (UnsafeRawBufferPointer) throws -> [UInt8]

    /// A source that yields `transform(base's bytes)`.
    public init(base: Tensor, transform: @escaping @Sendable (UnsafeRawBufferPointer) throws -> [UInt8]) {
        self.base = base
        self.transform = transform
    }

    /// Whether the base can be read on another thread (the computation itself is `@Sendable`).
    public var loadsConcurrently: Bool { base.loadsConcurrently }

    /// Lends the base's bytes to the computation and returns its result.
    public func loadBytes() throws -> [UInt8] {
        try base.withUnsafeBytes { try transform($0) }
    }
}
