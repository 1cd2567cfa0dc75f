import Foundation

/// An n-dimensional array of one ``DType``, in C (row-major) order, with its raw little-endian
/// element bytes.
///
/// `Tensor` is a value type with copy-on-write storage (a Swift array). It keeps the bytes as read
/// from the checkpoint so that an untouched weight is written back bit for bit; numeric views
/// (``floats()``, ``doubles()``) convert on demand.
///
/// A tensor can also be *deferred*: its dtype and shape are known but its bytes stay in a
/// ``TensorSource`` (a dataset of an open file, or a computation on another deferred tensor) until
/// they are asked for, explicitly: ``materialized()`` loads them and reports a failure,
/// ``load(into:)`` writes them into the caller's buffer, ``mapped(dtype:shape:_:)`` and
/// ``mappedBytes(dtype:shape:_:)`` defer a computation on them. Reading ``bytes`` (or a numeric
/// view) of a deferred tensor is a programming error: nothing loads behind a caller's back, so a
/// pass or kernel that forgot a model read for streaming stops at once instead of reading the file
/// again for every access. ``Model/withLoadedWeights()`` loads a whole model.
public struct Tensor: Equatable, Sendable {
    /// The element type.
    public let dtype: DType
    /// The dimensions, outermost first. An empty shape is a scalar.
    public let shape: [Int]
    /// The loaded bytes (empty while deferred).
    private var storage: [UInt8]
    /// Where a deferred tensor's bytes come from; `nil` once loaded.
    public let source: (any TensorSource)?

    /// The raw element bytes, little-endian, C order: `count * dtype.byteCount` bytes. Only for a
    /// loaded tensor (``isDeferred`` false): a deferred one is loaded with ``materialized()``.
    public var bytes: [UInt8] {
        precondition(source == nil, "bnconv: the bytes of a deferred tensor \(shape) \(dtype) were read without materialized()")
        return storage
    }

    /// Whether the bytes are still in a ``TensorSource`` rather than in memory.
    public var isDeferred: Bool { source != nil }

    /// Whether the bytes can be read on another thread while the caller goes on: always for a
    /// loaded tensor, for a deferred one when its source says so (``TensorSource/loadsConcurrently``).
    public var loadsConcurrently: Bool { source?.loadsConcurrently ?? true }

    /// The number of elements (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// Wraps raw element bytes; the byte count must match the shape and dtype.
    public init(dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(shape)
        }
        let expected = shape.reduce(1, *) * dtype.byteCount
        guard bytes.count == expected else {
            throw TensorError.byteCountMismatch(shape: shape, dtype: dtype, expected: expected, actual: bytes.count)
        }
        self.dtype = dtype
        self.shape = shape
        self.storage = bytes
        self.source = nil
    }

    /// Wraps bytes the caller built for exactly this shape and dtype (checked by a precondition).
    package init(dtype: DType, shape: [Int], exactBytes bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteCount, "Tensor(\(shape), \(dtype)) given \(bytes.count) bytes")
        self.dtype = dtype
        self.shape = shape
        self.storage = bytes
        self.source = nil
    }

    /// A float32 tensor from values in C order.
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "Tensor(shape: \(shape)) given \(floats.count) values")
        self.dtype = .float32
        self.shape = shape
        self.storage = floats.withUnsafeBytes { Array($0) }
        self.source = nil
    }

    /// A tensor of `dtype` from double values in C order, each rounded once to `dtype`.
    public init(shape: [Int], doubles: [Double], dtype: DType) {
        precondition(shape.reduce(1, *) == doubles.count, "Tensor(shape: \(shape)) given \(doubles.count) values")
        self.dtype = dtype
        self.shape = shape
        self.storage = Tensor.encode(doubles, as: dtype)
        self.source = nil
    }

    /// A deferred tensor of `dtype` and `shape` whose bytes `source` supplies when asked for.
    public init(dtype: DType, shape: [Int], source: any TensorSource) {
        self.dtype = dtype
        self.shape = shape
        self.storage = []
        self.source = source
    }

    /// The same tensor with its bytes in memory: a loaded tensor is returned as is, a deferred
    /// one is read from its source (errors are the source's, e.g. a ``CheckpointError``).
    public func materialized() throws -> Tensor {
        guard let source else { return self }
        return Tensor(dtype: dtype, shape: shape, exactBytes: try Tensor.load(source, dtype: dtype, shape: shape))
    }

    /// `transform` applied to this tensor, giving a tensor of `dtype` and `shape`: at once for a
    /// loaded tensor, and for a deferred one only when the result's bytes are asked for (the
    /// result is deferred too, so a pass over many large weights never holds them all).
    public func mapped(dtype newType: DType? = nil, shape newShape: [Int]? = nil,
                       _ transform: @escaping @Sendable (Tensor) throws -> Tensor) rethrows -> Tensor {
        guard isDeferred else { return try transform(self) }
        let (baseType, baseShape) = (dtype, shape)
        return Tensor(dtype: newType ?? dtype, shape: newShape ?? shape, source: MappedTensorSource(base: self) { raw in
            try transform(Tensor(dtype: baseType, shape: baseShape, exactBytes: Array(raw))).materialized().bytes
        })
    }

    /// Like ``mapped(dtype:shape:_:)``, but `transform` reads this tensor's raw bytes where they
    /// are (a deferred source may lend a mapping of its file: no copy) and returns the result's.
    public func mappedBytes(dtype newType: DType? = nil, shape newShape: [Int]? = nil,
                            _ transform: @escaping @Sendable (UnsafeRawBufferPointer) throws -> [UInt8]) throws -> Tensor {
        let resultType = newType ?? dtype, resultShape = newShape ?? shape
        guard isDeferred else {
            return try Tensor(dtype: resultType, shape: resultShape, bytes: try storage.withUnsafeBytes { try transform($0) })
        }
        return Tensor(dtype: resultType, shape: resultShape, source: MappedTensorSource(base: self, transform: transform))
    }

    /// Like ``mappedBytes(dtype:shape:_:)``, but `transform` writes the result's bytes into the
    /// room it is given (exactly the result's size), so that a writer can have a deferred result
    /// computed straight into its own buffer (``load(into:)``).
    public func mappedBytes(dtype newType: DType? = nil, shape newShape: [Int]? = nil,
                            writing transform: @escaping @Sendable (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> Void) throws -> Tensor {
        let resultType = newType ?? dtype, resultShape = newShape ?? shape
        let count = resultShape.reduce(1, *) * resultType.byteCount
        guard isDeferred else {
            let bytes = try storage.withUnsafeBytes { raw in
                try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                    try transform(raw, UnsafeMutableRawBufferPointer(buffer))
                    initialized = count
                }
            }
            return try Tensor(dtype: resultType, shape: resultShape, bytes: bytes)
        }
        return Tensor(dtype: resultType, shape: resultShape, source: MappedTensorSource(base: self, count: count, writing: transform))
    }

    /// Writes the raw bytes into `destination` (exactly `count * dtype.byteCount` of them): a
    /// loaded tensor's are copied, a deferred one's source writes them (a computed result is
    /// made there directly). Read failures and a wrong byte count throw.
    public func load(into destination: UnsafeMutableRawBufferPointer) throws {
        let expected = count * dtype.byteCount
        guard destination.count == expected else {
            throw TensorError.byteCountMismatch(shape: shape, dtype: dtype, expected: expected, actual: destination.count)
        }
        guard let source else {
            storage.withUnsafeBytes { destination.copyMemory(from: $0) }
            return
        }
        try source.load(into: destination)
    }

    /// Calls `body` with the raw bytes: a loaded tensor's own, a deferred one's as its source
    /// lends them (valid only during the call). Read failures and a wrong byte count throw.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let source else { return try storage.withUnsafeBytes(body) }
        let expected = count * dtype.byteCount
        return try source.withBytes { raw in
            guard raw.count == expected else {
                throw TensorError.byteCountMismatch(shape: shape, dtype: dtype, expected: expected, actual: raw.count)
            }
            return try body(raw)
        }
    }

    /// Loaded tensors are equal when dtype, shape and bytes are; a deferred tensor equals only a
    /// deferred tensor of the same dtype and shape with the same source (nothing is loaded to compare).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.dtype == rhs.dtype && lhs.shape == rhs.shape else { return false }
        switch (lhs.source, rhs.source) {
        case (nil, nil): return lhs.storage == rhs.storage
        case (let a?, let b?): return a === b
        default: return false
        }
    }

    /// The index of the first NaN or infinite element, or `nil` (integer dtypes have none). Scans
    /// the bytes where they are, without converting the tensor; a deferred tensor's source lends
    /// them (its read failures throw).
    public func firstNonFiniteIndex() throws -> Int? {
        try withUnsafeBytes { Tensor.firstNonFiniteIndex(in: $0, dtype: dtype) }
    }

    /// The index of the first NaN or infinite element of raw `dtype` elements.
    package static func firstNonFiniteIndex(in raw: UnsafeRawBufferPointer, dtype: DType) -> Int? {
        let n = raw.count / dtype.byteCount
        switch dtype {
        case .float32:
            // Exponent bits all set: infinity or NaN. Blocks are screened with a branch-free
            // reduction; only a block that has one is searched.
            // Loads that need no alignment (a kernel lent from a STORED `.keras` member may lie
            // at an odd address); plain loads on x86-64 and arm64.
            guard n > 0, let base = raw.baseAddress else { return nil }
            let block = 4096
            var start = 0
            while start < n {
                let length = min(block, n - start)
                let p = base + start * 4
                // All-ones exponent plus one exponent unit carries into bit 31; no smaller
                // exponent does. Only ands, adds and ors: the loop vectorizes.
                var hits: UInt32 = 0
                for k in 0..<length { hits |= (p.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self) & 0x7F80_0000) &+ 0x0080_0000 }
                if hits & 0x8000_0000 != 0 {
                    for k in 0..<length where p.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self) & 0x7F80_0000 == 0x7F80_0000 {
                        return start + k
                    }
                }
                start += length
            }
        case .float64:
            for i in 0..<n where !raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self).isFinite { return i }
        case .float16:
            for i in 0..<n where raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self) & 0x7C00 == 0x7C00 { return i }
        case .bfloat16:
            for i in 0..<n where raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self) & 0x7F80 == 0x7F80 { return i }
        case .int8, .uint8, .bool, .int16, .int32, .int64:
            return nil
        }
        return nil
    }

    /// Reads a deferred tensor's bytes (copied from where they lie when the source lends them in
    /// place, which any thread may do) and checks their count.
    private static func load(_ source: any TensorSource, dtype: DType, shape: [Int]) throws -> [UInt8] {
        let bytes = try source.lendsInPlace ? source.withBytes { Array($0) } : source.loadBytes()
        let expected = shape.reduce(1, *) * dtype.byteCount
        guard bytes.count == expected else {
            throw TensorError.byteCountMismatch(shape: shape, dtype: dtype, expected: expected, actual: bytes.count)
        }
        return bytes
    }

    /// The elements as `Float` (exact for every float dtype but float64, which rounds).
    public func floats() -> [Float] {
        let n = count
        switch dtype {
        case .float32:
            return [Float](unsafeUninitializedCapacity: n) { buf, done in
                _ = bytes.withUnsafeBytes { memcpy(buf.baseAddress!, $0.baseAddress!, n * 4) }
                done = n
            }
        default:
            return doubles().map(Float.init)
        }
    }

    /// The elements as `Double` (exact for every dtype bnconv reads).
    public func doubles() -> [Double] {
        let n = count
        return bytes.withUnsafeBytes { raw -> [Double] in
            var out = [Double](repeating: 0, count: n)
            switch dtype {
            case .float32:
                for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self)) }
            case .float64:
                for i in 0..<n { out[i] = raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self) }
            case .float16:
                for i in 0..<n { out[i] = Double(HalfPrecision.float(fromHalfBits: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
            case .bfloat16:
                for i in 0..<n { out[i] = Double(HalfPrecision.float(fromBFloat16Bits: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
            case .int8:
                for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i, as: Int8.self)) }
            case .uint8, .bool:
                for i in 0..<n { out[i] = Double(raw[i]) }
            case .int16:
                for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
            case .int32:
                for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
            case .int64:
                for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
            }
            return out
        }
    }

    /// The elements as `Int64` (integer dtypes; floats are truncated toward zero, NaN gives 0 and
    /// values beyond `Int64`'s range clamp to its bounds, so a damaged file cannot trap here).
    public func integers() -> [Int64] {
        let n = count
        return bytes.withUnsafeBytes { raw -> [Int64] in
            switch dtype {
            case .int64: return (0..<n).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
            case .int32: return (0..<n).map { Int64(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            default:
                return doubles().map { d -> Int64 in
                    if d.isNaN { return 0 }
                    if d >= 9.223372036854775807e18 { return .max }
                    if d <= -9.223372036854775808e18 { return .min }
                    return Int64(d)
                }
            }
        }
    }

    /// The same elements with a new shape of the same element count (a deferred tensor stays
    /// deferred: its source's bytes are the same in either shape).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.reduce(1, *) == count else {
            throw TensorError.reshapeMismatch(from: shape, to: newShape)
        }
        if let source { return Tensor(dtype: dtype, shape: newShape, source: source) }
        return try Tensor(dtype: dtype, shape: newShape, bytes: bytes)
    }

    /// The tensor with its axes reordered: result axis `i` is source axis `permutation[i]`
    /// (numpy's `transpose(permutation)`). Moves raw bytes, so every dtype is exact.
    public func transposed(_ permutation: [Int]) throws -> Tensor {
        guard permutation.count == rank, Set(permutation) == Set(0..<rank) else {
            throw TensorError.invalidPermutation(permutation, rank: rank)
        }
        if permutation == Array(0..<rank) { return self }
        let newShape = permutation.map { shape[$0] }
        let srcStrides = Tensor.strides(of: shape)
        let permStrides = permutation.map { srcStrides[$0] }
        let width = dtype.byteCount
        let n = count
        var out = [UInt8](repeating: 0, count: bytes.count)
        var index = [Int](repeating: 0, count: rank)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var srcOffset = 0
                for dstElement in 0..<n {
                    memcpy(dst.baseAddress! + dstElement * width, src.baseAddress! + srcOffset * width, width)
                    // Advance the multi-index over the new shape, keeping srcOffset in step.
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        srcOffset += permStrides[axis]
                        if index[axis] < newShape[axis] { break }
                        srcOffset -= permStrides[axis] * index[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return try Tensor(dtype: dtype, shape: newShape, bytes: out)
    }

    /// This tensor's values converted to `dtype` (rounded once from double precision).
    public func converted(to newType: DType) -> Tensor {
        if newType == dtype { return self }
        return Tensor(shape: shape, doubles: doubles(), dtype: newType)
    }

    /// Row-major strides (in elements) for `shape`.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = acc
            acc *= shape[axis]
        }
        return strides
    }

    /// Encodes doubles as the little-endian bytes of `dtype`, rounding to nearest-even.
    static func encode(_ values: [Double], as dtype: DType) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * dtype.byteCount)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                switch dtype {
                case .float32: raw.storeBytes(of: Float(v), toByteOffset: i * 4, as: Float.self)
                case .float64: raw.storeBytes(of: v, toByteOffset: i * 8, as: Double.self)
                case .float16: raw.storeBytes(of: HalfPrecision.halfBits(from: v), toByteOffset: i * 2, as: UInt16.self)
                case .bfloat16: raw.storeBytes(of: HalfPrecision.bfloat16Bits(from: v), toByteOffset: i * 2, as: UInt16.self)
                case .int8: raw.storeBytes(of: Int8(clamping: Int(v.rounded())), toByteOffset: i, as: Int8.self)
                case .uint8: raw.storeBytes(of: UInt8(clamping: Int(v.rounded())), toByteOffset: i, as: UInt8.self)
                case .bool: raw.storeBytes(of: UInt8(v != 0 ? 1 : 0), toByteOffset: i, as: UInt8.self)
                case .int16: raw.storeBytes(of: Int16(clamping: Int(v.rounded())), toByteOffset: i * 2, as: Int16.self)
                case .int32: raw.storeBytes(of: Int32(clamping: Int(v.rounded())), toByteOffset: i * 4, as: Int32.self)
                case .int64: raw.storeBytes(of: Int64(v.rounded()), toByteOffset: i * 8, as: Int64.self)
                }
            }
        }
        return out
    }
}

/// A problem with a tensor's shape, size or permutation.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// A dimension is negative.
    case invalidShape([Int])
    /// The byte count does not match `shape` and `dtype`.
    case byteCountMismatch(shape: [Int], dtype: DType, expected: Int, actual: Int)
    /// A reshape that changes the element count.
    case reshapeMismatch(from: [Int], to: [Int])
    /// A permutation that is not a reordering of `0..<rank`.
    case invalidPermutation([Int], rank: Int)

    /// A one-line description naming both shapes where there are two.
    public var description: String {
        switch self {
        case .invalidShape(let s): return "invalid shape \(s)"
        case let .byteCountMismatch(shape, dtype, expected, actual):
            return "shape \(shape) of \(dtype.rawValue) needs \(expected) bytes, got \(actual)"
        case let .reshapeMismatch(from, to): return "cannot reshape \(from) to \(to)"
        case let .invalidPermutation(p, rank): return "permutation \(p) does not reorder \(rank) axes"
        }
    }
}
