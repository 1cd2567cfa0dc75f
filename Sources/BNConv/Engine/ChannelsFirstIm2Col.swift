/// Gathers convolution windows of one channels-first image (`(C, d, h, w)`) into a matrix for
/// `W[O, C*taps] x col[C*taps, positions]`: row `(c, kd, kh, kw)` in `oihw` kernel order, column
/// = output position `(yd, yh, yw)`; taps falling in the padding are zero. A row is copied one output
/// line at a time, with a plain copy where the stride is 1.
enum ChannelsFirstIm2Col {
    /// Fills rows `rows` and output positions `columns` of `col` (row `r` at `col + r * ld`,
    /// position `columns.lowerBound` in column 0) from `x`, the image's first channel to read.
    static func fill(_ col: UnsafeMutablePointer<Float>, ld: Int, x: UnsafePointer<Float>, input: [Int],
                     axes: [WindowAxis], window: [Int], rows: Range<Int>, columns: Range<Int>) {
        let (id, ih, iw) = (input[0], input[1], input[2])
        let (kd, kh, kw) = (window[0], window[1], window[2])
        let (oh, ow) = (axes[1].output, axes[2].output)
        let taps = kd * kh * kw
        let sw = axes[2].stride
        for r in rows {
            let c = r / taps, tap = r % taps
            let a = tap / (kh * kw), b = (tap / kw) % kh, cc = tap % kw
            let plane = x + c * id * ih * iw
            let off = cc * axes[2].dilation - axes[2].padBefore
            var dst = col + r * ld
            var p = columns.lowerBound
            while p < columns.upperBound {
                let yw0 = p % ow, t = p / ow
                let yh = t % oh, yd = t / oh
                let n = min(columns.upperBound, p - yw0 + ow) - p
                let dd = yd * axes[0].stride - axes[0].padBefore + a * axes[0].dilation
                let hh = yh * axes[1].stride - axes[1].padBefore + b * axes[1].dilation
                if dd < 0 || dd >= id || hh < 0 || hh >= ih {
                    dst.update(repeating: 0, count: n)
                } else {
                    let src = plane + (dd * ih + hh) * iw
                    // Valid j: 0 <= (yw0 + j) * sw + off < iw.
                    let lo = min(max(0, ceilDiv(-off, sw) - yw0), n)
                    let hi = max(min(n, floorDiv(iw - 1 - off, sw) + 1 - yw0), lo)
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if sw == 1 {
                        if hi > lo { (dst + lo).update(from: src + (yw0 + lo + off), count: hi - lo) }
                    } else {
                        var s = src + ((yw0 + lo) * sw + off)
                        for j in lo..<hi { dst[j] = s.pointee; s += sw }
                    }
                    if hi < n { (dst + hi).update(repeating: 0, count: n - hi) }
                }
                dst += n
                p += n
            }
        }
    }

    @inline(__always)
    private static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    @inline(__always)
    private static func ceilDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? (a + b - 1) / b : -((-a) / b) }
}
