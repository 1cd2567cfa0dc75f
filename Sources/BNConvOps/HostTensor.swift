import BNConvCore

/// A tensor the op library computes on: a dtype, a shape and its elements in memory, C order.
///
/// Built from and turned back into a core ``Tensor`` at the engine's edge. The elements are kept
/// in the dtype's computing kind (``HostStorage``); ``init(dtype:shape:storage:)`` rounds or wraps
/// them to the dtype, so each op's output is what the dtype can hold.
public struct HostTensor: Equatable, Sendable {
    /// The element type.
    public let dtype: DType
    /// The dimensions, outermost first (empty: a scalar).
    public let shape: [Int]
    /// The elements.
    public let storage: HostStorage

    /// Wraps `storage` (of `dtype`'s kind, `shape`'s element count); narrow floats are rounded and
    /// narrow integers wrapped to `dtype`.
    public init(dtype: DType, shape: [Int], storage: HostStorage) {
        precondition(storage.count == shape.reduce(1, *), "bnconv: \(storage.count) elements for shape \(shape)")
        self.dtype = dtype
        self.shape = shape
        self.storage = HostTensor.narrowed(storage, to: dtype)
    }

    /// A float32 tensor.
    public init(shape: [Int], floats: [Float]) { self.init(dtype: .float32, shape: shape, storage: .float(floats)) }

    /// An int64 tensor.
    public init(shape: [Int], integers: [Int64]) { self.init(dtype: .int64, shape: shape, storage: .int(integers)) }

    /// The elements of `tensor` (loaded; a deferred tensor is materialized first).
    public init(_ tensor: Tensor) throws {
        let t = tensor.isDeferred ? try tensor.materialized() : tensor
        let storage: HostStorage
        switch t.dtype {
        case .float32, .float16, .bfloat16: storage = .float(t.floats())
        case .float64: storage = .double(t.doubles())
        case .int32, .int64: storage = .int(t.integers())
        case .int8, .uint8, .int16: storage = .int(t.doubles().map { Int64($0) })
        case .bool: storage = .bool(t.bytes.map { $0 != 0 })
        }
        self.init(dtype: t.dtype, shape: t.shape, storage: storage)
    }

    /// The number of elements.
    public var count: Int { storage.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The same elements under another shape of the same count.
    public func reshaped(_ newShape: [Int]) -> HostTensor {
        HostTensor(dtype: dtype, shape: newShape, storage: storage)
    }

    /// The tensor with its axes in the order `permutation` gives (NumPy `transpose`); `op` names
    /// the op in the error a wrong permutation gives.
    public func permuted(_ permutation: [Int], op: String) throws -> HostTensor {
        guard permutation.sorted() == Array(0..<rank) else {
            throw OpError.invalid(op: op, problem: "permutation \(permutation) does not reorder \(rank) axes")
        }
        let strides = Shapes.strides(shape)
        let indices = Shapes.indexMap(permutation.map { shape[$0] }) { permutation.map { strides[$0] } }
        return HostTensor(dtype: dtype, shape: permutation.map { shape[$0] }, storage: storage.gathered(indices))
    }

    /// The float32 elements, when this is a float32 tensor.
    public var floats: [Float]? { if dtype == .float32, case .float(let v) = storage { return v } else { return nil } }

    /// The tensor as a core ``Tensor`` of its dtype.
    public func tensor() -> Tensor {
        switch storage {
        case .float(let v) where dtype == .float32: return Tensor(shape: shape, floats: v)
        case .bool(let v):
            return try! Tensor(dtype: .bool, shape: shape, bytes: v.map { $0 ? 1 : 0 })
        case .int(let v) where dtype == .int64:
            return try! Tensor(dtype: .int64, shape: shape, bytes: v.withUnsafeBytes { Array($0) })
        case .int(let v) where dtype == .int32:
            return try! Tensor(dtype: .int32, shape: shape, bytes: v.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) })
        default:
            return Tensor(shape: shape, doubles: storage.doubles, dtype: dtype)
        }
    }

    /// `storage` rounded (float16, bfloat16) or wrapped (int8 to int32, uint8) to `dtype`.
    static func narrowed(_ storage: HostStorage, to dtype: DType) -> HostStorage {
        switch (storage, dtype) {
        case (.float(let v), .float16): return .float(v.map { Float(Float16($0)) })
        case (.float(let v), .bfloat16):
            return .float(v.map { Float(bitPattern: UInt32(HalfPrecision.bfloat16Bits(from: Double($0))) << 16) })
        case (.int(let v), .int8): return .int(v.map { Int64(Int8(truncatingIfNeeded: $0)) })
        case (.int(let v), .uint8): return .int(v.map { Int64(UInt8(truncatingIfNeeded: $0)) })
        case (.int(let v), .int16): return .int(v.map { Int64(Int16(truncatingIfNeeded: $0)) })
        case (.int(let v), .int32): return .int(v.map { Int64(Int32(truncatingIfNeeded: $0)) })
        default: return storage
        }
    }

    /// A tensor of `dtype` and `shape` with every element `value`.
    public static func filled(_ value: Double, dtype: DType, shape: [Int]) -> HostTensor {
        let n = shape.reduce(1, *)
        let storage: HostStorage
        switch HostStorage.kind(of: dtype) {
        case .float: storage = .float(Array(repeating: Float(value), count: n))
        case .double: storage = .double(Array(repeating: value, count: n))
        case .int: storage = .int(Array(repeating: value.isFinite ? Int64(value) : 0, count: n))
        case .bool: storage = .bool(Array(repeating: value != 0, count: n))
        }
        return HostTensor(dtype: dtype, shape: shape, storage: storage)
    }

    /// The elements converted to `dtype` (ONNX Cast: floats to integers truncate toward zero, to
    /// bool any non-zero is true).
    public func converted(to newType: DType) -> HostTensor {
        if newType == dtype { return self }
        let storage: HostStorage
        switch HostStorage.kind(of: newType) {
        case .float:
            if case .float(let v) = self.storage { storage = .float(v) } else { storage = .float(self.storage.doubles.map { Float($0) }) }
        case .double: storage = .double(self.storage.doubles)
        case .int: storage = .int(self.storage.integers)
        case .bool:
            if case .bool(let v) = self.storage { storage = .bool(v) } else { storage = .bool(self.storage.doubles.map { $0 != 0 }) }
        }
        return HostTensor(dtype: newType, shape: shape, storage: storage)
    }
}
