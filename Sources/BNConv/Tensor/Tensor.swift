import Foundation

/// An n-dimensional array of one ``DType``, in C (row-major) order, with its raw little-endian
/// element bytes.
///
/// `Tensor` is a value type with copy-on-write storage (a Swift array). It keeps the bytes as read
/// from the checkpoint so that an untouched weight is written back bit for bit; numeric views
/// (``floats()``, ``doubles()``) convert on demand.
public struct Tensor: Equatable, Sendable {
    /// The element type.
    public let dtype: DType
    /// The dimensions, outermost first. An empty shape is a scalar.
    public let shape: [Int]
    /// The raw element bytes, little-endian, C order: `count * dtype.byteCount` bytes.
    public private(set) var bytes: [UInt8]

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
        self.bytes = bytes
    }

    /// Wraps bytes the caller built for exactly this shape and dtype (checked by a precondition).
    init(dtype: DType, shape: [Int], exactBytes bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteCount, "Tensor(\(shape), \(dtype)) given \(bytes.count) bytes")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A float32 tensor from values in C order.
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "Tensor(shape: \(shape)) given \(floats.count) values")
        self.dtype = .float32
        self.shape = shape
        self.bytes = floats.withUnsafeBytes { Array($0) }
    }

    /// A tensor of `dtype` from double values in C order, each rounded once to `dtype`.
    public init(shape: [Int], doubles: [Double], dtype: DType) {
        precondition(shape.reduce(1, *) == doubles.count, "Tensor(shape: \(shape)) given \(doubles.count) values")
        self.dtype = dtype
        self.shape = shape
        self.bytes = Tensor.encode(doubles, as: dtype)
    }

    /// Runs `body` on the raw element bytes for writing in place (the storage is copied first only
    /// when another tensor shares it). The byte count, shape and dtype stay as they are.
    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeMutableBytes(body)
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

    /// The position of the first NaN or infinite element, or nil when every element is finite
    /// (always nil for integer dtypes). Reads the bytes in place: nothing is converted or allocated.
    public func firstNonFiniteIndex() -> Int? {
        let n = count
        return bytes.withUnsafeBytes { raw -> Int? in
            switch dtype {
            case .float32:
                // Exponent bits all set: infinity or NaN. Blocks are screened with a max over the
                // exponent bits (vectorized); only a block holding one is searched element by element.
                let bits = raw.bindMemory(to: UInt32.self)
                var start = 0
                while start < n {
                    let end = Swift.min(start + 4096, n)
                    var top: UInt32 = 0
                    for i in start..<end { top = Swift.max(top, bits[i] & 0x7F80_0000) }
                    if top == 0x7F80_0000 {
                        for i in start..<end where bits[i] & 0x7F80_0000 == 0x7F80_0000 { return i }
                    }
                    start = end
                }
            case .float64:
                for i in 0..<n where raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) & 0x7FF0_0000_0000_0000 == 0x7FF0_0000_0000_0000 {
                    return i
                }
            case .float16:
                for i in 0..<n where raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self) & 0x7C00 == 0x7C00 { return i }
            case .bfloat16:
                for i in 0..<n where raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self) & 0x7F80 == 0x7F80 { return i }
            case .int8, .uint8, .bool, .int16, .int32, .int64:
                return nil
            }
            return nil
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

    /// The same elements with a new shape of the same element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.reduce(1, *) == count else {
            throw TensorError.reshapeMismatch(from: shape, to: newShape)
        }
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
