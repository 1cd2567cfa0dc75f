import BNConvCore
import BNConvModel
import BNConvInterop

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
        let (sd, sh) = (axes[0].stride, axes[1].stride)
        let first = columns.lowerBound
        // The output position the columns start at, advanced line by line (no division per line).
        let startW = first % ow, startH = (first / ow) % oh, startD = first / (ow * oh)
        for r in rows {
            let c = r / taps, tap = r % taps
            let a = tap / (kh * kw), b = (tap / kw) % kh, cc = tap % kw
            let plane = x + c * id * ih * iw
            let off = cc * axes[2].dilation - axes[2].padBefore
            let dOff = a * axes[0].dilation - axes[0].padBefore, hOff = b * axes[1].dilation - axes[1].padBefore
            var dst = col + r * ld
            var remaining = columns.count
            var yw0 = startW, yh = startH, yd = startD
            while remaining > 0 {
                let n = min(remaining, ow - yw0)
                let dd = yd * sd + dOff, hh = yh * sh + hOff
                if dd < 0 || dd >= id || hh < 0 || hh >= ih {
                    for j in 0..<n { dst[j] = 0 }
                } else {
                    let src = plane + (dd * ih + hh) * iw
                    // Valid j: 0 <= (yw0 + j) * sw + off < iw.
                    let lo = min(max(0, ceilDiv(-off, sw) - yw0), n)
                    let hi = max(min(n, floorDiv(iw - 1 - off, sw) + 1 - yw0), lo)
                    for j in 0..<lo { dst[j] = 0 }
                    if sw == 1 {
                        let s = src + (yw0 + off)
                        for j in lo..<hi { dst[j] = s[j] }
                    } else {
                        // Stride 2 (ResNet's stem and downsampling convolutions) four at a time.
                        let s = src + (yw0 * sw + off), d = dst
                        if sw == 2 {
                            copyEvens(d, s, lo..<hi)
                        } else {
                            for j in lo..<hi { d[j] = s[sw * j] }
                        }
                    }
                    for j in hi..<n { dst[j] = 0 }
                }
                dst += n
                remaining -= n
                yw0 = 0
                yh += 1
                if yh == oh { yh = 0; yd += 1 }
            }
        }
    }

    /// `d[j] = s[2 * j]` for `j` in `range`, four values a step (two loads, one shuffle); reads
    /// nothing past `s[2 * (range.upperBound - 1)]`.
    @inline(__always)
    static func copyEvens(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ range: Range<Int>) {
        var j = range.lowerBound
        while j + 5 <= range.upperBound {
            let a = UnsafeRawPointer(s + 2 * j).loadUnaligned(as: SIMD4<Float>.self)
            let b = UnsafeRawPointer(s + 2 * j + 4).loadUnaligned(as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(d + j).storeBytes(of: SIMD4(a[0], a[2], b[0], b[2]), as: SIMD4<Float>.self)
            j += 4
        }
        while j < range.upperBound {
            d[j] = s[2 * j]
            j += 1
        }
    }

    @inline(__always)
    private static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    @inline(__always)
    private static func ceilDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? (a + b - 1) / b : -((-a) / b) }
}
