import BNConvCore
import BNConvModel
import BNConvInterop

/// Gathers convolution windows of a channels-last input into rows of a matrix (im2col): row `r` is
/// output position `r` (n, d, h, w), columns are `(kd, kh, kw, channel)` in `hwio` kernel order;
/// taps falling in the padding are zero.
enum Im2Col {
    /// Fills `col` (`rows.count x taps*channels`) for the output positions in `rows`, reading
    /// `channels` channels from `channelOffset` of `x`; on `parallel`'s cores unless `concurrently` is false.
    static func fill(_ col: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, input: SpatialShape,
                     axes: [WindowAxis], window: [Int], channelOffset: Int, channels: Int, rows: Range<Int>,
                     concurrently: Bool = true, parallel: Parallel) {
        let (od, oh, ow) = (axes[0].output, axes[1].output, axes[2].output)
        let (id, ih, iw) = (input.spatial[0], input.spatial[1], input.spatial[2])
        let (kd, kh, kw) = (window[0], window[1], window[2])
        let cin = input.c
        let k = kd * kh * kw * channels
        let body = { (local: Range<Int>) in
            for rr in local {
                let r = rows.lowerBound + rr
                var dst = col + rr * k
                let xw = r % ow, t1 = r / ow
                let xh = t1 % oh, t2 = t1 / oh
                let xd = t2 % od, n = t2 / od
                let d0 = xd * axes[0].stride - axes[0].padBefore
                let h0 = xh * axes[1].stride - axes[1].padBefore
                let w0 = xw * axes[2].stride - axes[2].padBefore
                for a in 0..<kd {
                    let dd = d0 + a * axes[0].dilation
                    let dOK = dd >= 0 && dd < id
                    for b in 0..<kh {
                        let hh = h0 + b * axes[1].dilation
                        let rowOK = dOK && hh >= 0 && hh < ih
                        let rowBase = ((n * id + dd) * ih + hh) * iw
                        for c in 0..<kw {
                            let ww = w0 + c * axes[2].dilation
                            if rowOK && ww >= 0 && ww < iw {
                                dst.update(from: x + (rowBase + ww) * cin + channelOffset, count: channels)
                            } else {
                                dst.update(repeating: 0, count: channels)
                            }
                            dst += channels
                        }
                    }
                }
            }
        }
        if concurrently {
            parallel.ranges(rows.count, costPerItem: k, body)
        } else {
            body(0..<rows.count)
        }
    }
}
