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
        let (sd, sh, sw) = (axes[0].stride, axes[1].stride, axes[2].stride)
        let (dd0, dh0, dw0) = (axes[0].dilation, axes[1].dilation, axes[2].dilation)
        let (pd, ph, pw) = (axes[0].padBefore, axes[1].padBefore, axes[2].padBefore)
        let first = columns.lowerBound
        // The output position the columns start at, advanced line by line (no division per line).
        let startW = first % ow, startH = (first / ow) % oh, startD = first / (ow * oh)
        // Output lines as long as input lines, read at stride 1: the lines of one tap row are one
        // contiguous run of the input, copied at once (``copyPlane``).
        let wholeLines = sw == 1 && sh == 1 && ow == iw && axes[0].output == 1
        for r in rows {
            let c = r / taps, tap = r % taps
            let a = tap / (kh * kw), b = (tap / kw) % kh, cc = tap % kw
            let plane = x + c * id * ih * iw
            let off = cc * dw0 - pw
            let dOff = a * dd0 - pd, hOff = b * dh0 - ph
            var dst = col + r * ld
            var remaining = columns.count
            var yw0 = startW, yh = startH, yd = startD
            // Output columns whose tap lies inside a whole input line.
            let full = WindowAxis.inside(offset: off, stride: sw, length: iw, count: ow)
            while remaining > 0 {
                if wholeLines && yw0 == 0 && remaining >= ow && yd == 0 && dOff == 0 {
                    let lines = min(remaining / ow, oh - yh)
                    copyLines(dst, plane: plane, firstLine: yh + hOff, lines: lines, inputLines: ih, width: iw, offset: off,
                              valid: full)
                    dst += lines * ow
                    remaining -= lines * ow
                    yh += lines
                    if yh == oh { yh = 0; yd += 1 }
                    continue
                }
                let n = min(remaining, ow - yw0)
                let dd = yd * sd + dOff, hh = yh * sh + hOff
                if dd < 0 || dd >= id || hh < 0 || hh >= ih {
                    dst.update(repeating: 0, count: n)
                } else {
                    let src = plane + (dd * ih + hh) * iw
                    // Valid j: 0 <= (yw0 + j) * sw + off < iw.
                    let valid = yw0 == 0 && n == ow ? full : WindowAxis.inside(offset: yw0 * sw + off, stride: sw, length: iw, count: n)
                    let lo = valid.lowerBound, hi = valid.upperBound
                    for j in 0..<lo { dst[j] = 0 }
                    if sw == 1 {
                        (dst + lo).update(from: src + (yw0 + off + lo), count: hi - lo)
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

    /// Writes `lines` whole output lines (each `width` long, the input's width) of one tap row:
    /// output line `k`, column `j` takes input line `firstLine + k`, column `j + offset` of `plane`
    /// (`inputLines` lines), zero where that lies outside the input (`valid`: the columns inside a
    /// line). The input lines read follow one another in memory, so the lines inside the input are
    /// one copy, after which the columns that read across a line's end are zeroed.
    @inline(__always)
    static func copyLines(_ dst: UnsafeMutablePointer<Float>, plane: UnsafePointer<Float>, firstLine: Int, lines: Int,
                          inputLines: Int, width: Int, offset: Int, valid: Range<Int>) {
        // Output lines whose input line exists.
        let lo = min(max(0, -firstLine), lines), hi = max(min(lines, inputLines - firstLine), lo)
        if lo > 0 { dst.update(repeating: 0, count: lo * width) }
        if hi < lines { (dst + hi * width).update(repeating: 0, count: (lines - hi) * width) }
        guard hi > lo else { return }
        // Elements lo * width ..< hi * width of the output read plane[(firstLine * width) + e + offset];
        // copy those inside the plane, zero the rest.
        let start = lo * width, end = hi * width
        let base = firstLine * width + offset
        let from = max(start, -base), to = min(end, inputLines * width - base)
        if from > start { (dst + start).update(repeating: 0, count: min(from, end) - start) }
        if to > from { (dst + from).update(from: plane + (base + from), count: to - from) }
        if to < end { (dst + max(to, start)).update(repeating: 0, count: end - max(to, start)) }
        if valid.lowerBound > 0 || valid.upperBound < width {
            for k in lo..<hi {
                let line = dst + k * width
                for j in 0..<valid.lowerBound { line[j] = 0 }
                for j in valid.upperBound..<width { line[j] = 0 }
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
}
