/// Conversions between IEEE half / bfloat16 bit patterns and wider floats, done in Swift
/// (never through HDF5's float16 conversion, which rounds wrongly: h5py issues #819, #1221).
package enum HalfPrecision {
    /// IEEE binary16 bits to Float (exact).
    @inline(__always)
    package static func float(fromHalfBits bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// Double to IEEE binary16 bits, rounding once to nearest-even from the double.
    @inline(__always)
    package static func halfBits(from value: Double) -> UInt16 {
        Float16(value).bitPattern
    }

    /// bfloat16 bits (the high half of a binary32) to Float (exact).
    @inline(__always)
    package static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Double to bfloat16 bits, rounding to nearest-even; NaN stays a quiet NaN.
    ///
    /// Rounds from the double directly (not via Float) to avoid double rounding.
    package static func bfloat16Bits(from value: Double) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        // Round the double to 8 significand bits by going through Float with round-to-odd
        // emulation: find the two bfloat16 neighbours and pick the nearer (ties to even).
        let f = Float(value)                     // nearest float; may round
        let bits = f.bitPattern
        let lower = UInt16(truncatingIfNeeded: bits >> 16)
        if f.isInfinite { return lower }
        let down = Float(bitPattern: UInt32(lower) << 16)
        let up = Float(bitPattern: (UInt32(lower) &+ 1) << 16)
        let dDown = abs(Double(down) - value)
        let dUp = abs(Double(up) - value)
        if dDown < dUp { return lower }
        if dUp < dDown { return lower &+ 1 }
        return (lower & 1) == 0 ? lower : lower &+ 1
    }
}
