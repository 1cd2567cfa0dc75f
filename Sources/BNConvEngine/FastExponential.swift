/// `exp(x)` in float32 by range reduction and a polynomial, written so that loops over it
/// vectorize (no calls, no branches, no checked conversions): the activations that need `exp` on
/// every element (sigmoid, swish) run 8-16 elements a step instead of one `expf` call each.
///
/// `x = n ln 2 + r` with `n` the nearest integer to `x log2(e)` and `|r| <= ln 2 / 2` (`ln 2` split in two
/// parts, so `r` keeps its low bits), `exp(r)` by Cephes' `expf` polynomial (S. L. Moshier, Cephes
/// Math Library, `expf.c`: the coefficients and the split of `ln 2` are his), and `2^n` built in the
/// exponent bits. Relative error within 2 ulp of the true value on `[-87.3, 88.3]`; inputs are
/// clamped to `[-88.37, 88.37]`, so the result never overflows to infinity (a large input gives
/// about 2.4e38) and results below about 1e-38 are 0, not subnormal. NaN gives NaN.
enum FastExponential {
    /// Largest input taken; larger ones give `exp` of this.
    static let high: Float = 88.3762626647949
    /// Smallest input taken; smaller ones give 0.
    static let low: Float = -88.3762626647949

    /// `exp(x)`, as described on the type.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, low), high)
        // n = x log2(e) rounded to nearest: adding 1.5 * 2^23 leaves n in the low mantissa bits.
        let shifted = clamped * 1.44269504088896341 + 12_582_912
        let n = shifted - 12_582_912
        // r = x - n ln 2, ln 2 = 0.693359375 - 2.12194440e-4 (Cephes' C1, C2): |r| <= ln 2 / 2.
        let r = (clamped - n * 0.693359375) + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3333451907e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * (r * r) + r + 1
        // 2^n from n + 127 in [0, 254], read from the shifted value's bits (their low 9 bits are n).
        let scale = Float(bitPattern: (shifted.bitPattern &+ 127) << 23)
        let result = er * scale
        return x.isNaN ? x : result
    }

    /// `1 / (1 + exp(-x))` from ``exp(_:)`` of `-|x|`: never `exp` of a large positive value.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        let e = exp(-Swift.abs(x))
        let d = 1 / (1 + e)
        return x >= 0 ? d : e * d
    }
}
