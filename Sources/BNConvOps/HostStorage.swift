import BNConvCore

/// The elements of a ``HostTensor``, in one of the four kinds the op library computes in.
///
/// float16, bfloat16 and float32 compute as `Float` (the narrow ones rounded back after each op,
/// as NumPy does); float64 as `Double`; every integer type as `Int64` (wrapped back to its width
/// after each op); bool as `Bool`.
public enum HostStorage: Equatable, Sendable {
    /// float32, float16 or bfloat16 elements.
    case float([Float])
    /// float64 elements.
    case double([Double])
    /// int8, uint8, int16, int32 or int64 elements.
    case int([Int64])
    /// bool elements.
    case bool([Bool])

    /// The number of elements.
    public var count: Int {
        switch self {
        case .float(let v): return v.count
        case .double(let v): return v.count
        case .int(let v): return v.count
        case .bool(let v): return v.count
        }
    }

    /// The elements at `indices`, in that order; an index of -1 gives `fill` (converted to this
    /// kind). Every layout op (transpose, slice, gather, pad, tile, ...) is an index map plus this.
    public func gathered(_ indices: [Int], fill: Double = 0) -> HostStorage {
        func pick<T>(_ v: [T], _ pad: T) -> [T] { indices.map { $0 < 0 ? pad : v[$0] } }
        switch self {
        case .float(let v): return .float(pick(v, Float(fill)))
        case .double(let v): return .double(pick(v, fill))
        case .int(let v): return .int(pick(v, fill.isFinite ? Int64(fill) : 0))
        case .bool(let v): return .bool(pick(v, fill != 0))
        }
    }

    /// The concatenation of `parts` (all of this kind) in order.
    public static func joined(_ parts: [HostStorage]) -> HostStorage? {
        guard let first = parts.first else { return nil }
        switch first {
        case .float: return .float(parts.flatMap { if case .float(let v) = $0 { return v } else { return [] } })
        case .double: return .double(parts.flatMap { if case .double(let v) = $0 { return v } else { return [] } })
        case .int: return .int(parts.flatMap { if case .int(let v) = $0 { return v } else { return [] } })
        case .bool: return .bool(parts.flatMap { if case .bool(let v) = $0 { return v } else { return [] } })
        }
    }

    /// Every element as a Double (integers exactly up to 2^53, bools as 0/1).
    public var doubles: [Double] {
        switch self {
        case .float(let v): return v.map(Double.init)
        case .double(let v): return v
        case .int(let v): return v.map(Double.init)
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        }
    }

    /// Every element as an Int64 (floats truncated toward zero, saturating; NaN as 0).
    public var integers: [Int64] {
        func int(_ d: Double) -> Int64 {
            guard d.isFinite else { return d.isNaN ? 0 : (d > 0 ? .max : .min) }
            return d >= 9.2233720368547758e18 ? .max : d <= -9.2233720368547758e18 ? .min : Int64(d)
        }
        switch self {
        case .float(let v): return v.map { int(Double($0)) }
        case .double(let v): return v.map(int)
        case .int(let v): return v
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        }
    }

    /// The storage kind that computes `dtype`.
    public static func kind(of dtype: DType) -> HostStorageKind {
        switch dtype {
        case .float16, .bfloat16, .float32: return .float
        case .float64: return .double
        case .int8, .uint8, .int16, .int32, .int64: return .int
        case .bool: return .bool
        }
    }
}

/// The four computing kinds of ``HostStorage``.
public enum HostStorageKind: Sendable {
    /// `Float`.
    case float
    /// `Double`.
    case double
    /// `Int64`.
    case int
    /// `Bool`.
    case bool
}
