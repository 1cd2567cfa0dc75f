import BNConvCore

/// The range of values an integer dtype holds (what a reduction over nothing gives, and where a
/// computed value saturates).
enum DTypeBounds {
    /// The least and greatest value of `dtype` (the Int64 range for a non-integer dtype).
    static func integerRange(of dtype: DType) -> ClosedRange<Int64> {
        switch dtype {
        case .int8: return Int64(Int8.min)...Int64(Int8.max)
        case .uint8: return 0...Int64(UInt8.max)
        case .int16: return Int64(Int16.min)...Int64(Int16.max)
        case .int32: return Int64(Int32.min)...Int64(Int32.max)
        default: return Int64.min...Int64.max
        }
    }
}
