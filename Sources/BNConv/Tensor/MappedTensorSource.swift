/// The source of a deferred tensor computed from another one (``Tensor/mapped(dtype:shape:_:)``):
/// loading it loads the base, applies the transform, and keeps neither.
public final class MappedTensorSource: TensorSource {
    /// The tensor the result is computed from (usually deferred itself).
    public let base: Tensor
    /// The computation.
    private let transform: @Sendable (Tensor) throws -> Tensor

    /// A source that yields `transform(base)`.
    public init(base: Tensor, transform: @escaping @Sendable (Tensor) throws -> Tensor) {
        self.base = base
        self.transform = transform
    }

    /// Loads the base and returns the transformed tensor's bytes.
    public func loadBytes() throws -> [UInt8] {
        try transform(try base.materialized()).materialized().bytes
    }
}
