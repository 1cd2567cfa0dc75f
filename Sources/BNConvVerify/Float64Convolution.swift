/// Convolutions of the float64 reference (``Float64Reference``) on channels-last values
/// `(N, spatial..., C)`, written from their definitions, one output (or input) position at a time.
///
/// Forward (TensorFlow `conv`, grouped as ONNX `Conv` `group`):
/// `y[n, p, g*G' + o] = b[g*G' + o] + sum over taps t and i < G of x[n, p*s - before + t*d, g*G + i] * w[t, i, g*G' + o]`
/// with `G` input and `G'` output channels per group; a tap that lands in the padding adds nothing.
/// Transposed (the forward convolution's gradient with respect to its input, TensorFlow
/// `conv2d_transpose`, ONNX `ConvTranspose`): every input `x[n, q, c]` adds `x * w[t, c, o]` into
/// `y[n, q*s - before + t*d, g*G' + o]` for `c` in group `g`.
enum Float64Convolution {
    /// The forward convolution of `x` (`(N, spatial..., groups * G)`) with `kernel` (`(taps..., G, out)`).
    static func forward(_ x: Float64Tensor, kernel: Float64Tensor, groups: Int, windows: [Float64Window], bias: [Double]?,
                        budget: inout Float64Budget) throws -> Float64Tensor {
        let rank = windows.count
        guard x.shape.count == rank + 2, kernel.shape.count == rank + 2, groups >= 1 else {
            throw Float64Reference.Unsupported("a convolution of \(rank) spatial axes over \(x.shape) with a kernel \(kernel.shape)")
        }
        let cin = x.shape[rank + 1], cinG = kernel.shape[rank], cout = kernel.shape[rank + 1]
        guard cinG * groups == cin, cout % groups == 0, zip(windows, kernel.shape).allSatisfy({ $0.kernel == $1 }) else {
            throw Float64Reference.Unsupported("a kernel \(kernel.shape) in \(groups) group(s) cannot read \(cin) channels")
        }
        let coutG = cout / groups
        let n = x.shape[0]
        // Three spatial axes, the missing leading ones of length 1.
        let win = Array(repeating: Float64Window(unit: 1), count: 3 - rank) + windows
        let inSize = Array(repeating: 1, count: 3 - rank) + Array(x.shape[1...rank])
        let outSize = win.map(\.output)
        let taps = win.map(\.kernel)
        try budget.spend(values: [n] + outSize + [cout], multiplyAdds: [n] + outSize + taps + [cinG, cout])
        let positions = outSize.reduce(1, *)
        var out = [Double](repeating: 0, count: n * positions * cout)
        x.values.withUnsafeBufferPointer { xp in
            kernel.values.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { yp in
                    for b in 0..<n {
                        for od in 0..<outSize[0] {
                            for oh in 0..<outSize[1] {
                                for ow in 0..<outSize[2] {
                                    let y = yp.baseAddress! + (((b * outSize[0] + od) * outSize[1] + oh) * outSize[2] + ow) * cout
                                    if let bias { for o in 0..<cout { y[o] = bias[o] } }
                                    for a in 0..<taps[0] {
                                        let id = od * win[0].stride - win[0].before + a * win[0].dilation
                                        guard id >= 0, id < inSize[0] else { continue }
                                        for c in 0..<taps[1] {
                                            let ih = oh * win[1].stride - win[1].before + c * win[1].dilation
                                            guard ih >= 0, ih < inSize[1] else { continue }
                                            for e in 0..<taps[2] {
                                                let iw = ow * win[2].stride - win[2].before + e * win[2].dilation
                                                guard iw >= 0, iw < inSize[2] else { continue }
                                                let xRow = xp.baseAddress! + (((b * inSize[0] + id) * inSize[1] + ih) * inSize[2] + iw) * cin
                                                let wTap = wp.baseAddress! + ((a * taps[1] + c) * taps[2] + e) * cinG * cout
                                                for g in 0..<groups {
                                                    for i in 0..<cinG {
                                                        let v = xRow[g * cinG + i]
                                                        let w = wTap + i * cout + g * coutG
                                                        let yg = y + g * coutG
                                                        for o in 0..<coutG { yg[o] += v * w[o] }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Float64Tensor(shape: [n] + Array(outSize.suffix(rank)) + [cout], values: out)
    }

    /// The transposed convolution of `x` (`(N, spatial..., in)`) with `kernel` (`(taps..., in, G')`)
    /// in `groups` groups: `groups * G'` output channels.
    static func transposed(_ x: Float64Tensor, kernel: Float64Tensor, groups: Int, windows: [Float64Window], bias: [Double]?,
                           budget: inout Float64Budget) throws -> Float64Tensor {
        let rank = windows.count
        guard x.shape.count == rank + 2, kernel.shape.count == rank + 2, groups >= 1 else {
            throw Float64Reference.Unsupported("a transposed convolution of \(rank) spatial axes over \(x.shape) with a kernel \(kernel.shape)")
        }
        let cin = x.shape[rank + 1], coutG = kernel.shape[rank + 1]
        guard kernel.shape[rank] == cin, cin % groups == 0, zip(windows, kernel.shape).allSatisfy({ $0.kernel == $1 }) else {
            throw Float64Reference.Unsupported("a transposed kernel \(kernel.shape) in \(groups) group(s) cannot read \(cin) channels")
        }
        let cinG = cin / groups, cout = coutG * groups
        let n = x.shape[0]
        let win = Array(repeating: Float64Window(unit: 1), count: 3 - rank) + windows
        let inSize = Array(repeating: 1, count: 3 - rank) + Array(x.shape[1...rank])
        let outSize = win.map(\.output)
        guard outSize.allSatisfy({ $0 >= 0 }) else { throw Float64Reference.Unsupported("a transposed convolution output of \(outSize)") }
        let taps = win.map(\.kernel)
        try budget.spend(values: [n] + outSize + [cout], multiplyAdds: [n] + inSize + taps + [cin, coutG])
        let positions = outSize.reduce(1, *)
        var out = [Double](repeating: 0, count: n * positions * cout)
        x.values.withUnsafeBufferPointer { xp in
            kernel.values.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { yp in
                    for b in 0..<n {
                        for id in 0..<inSize[0] {
                            for ih in 0..<inSize[1] {
                                for iw in 0..<inSize[2] {
                                    let xRow = xp.baseAddress! + (((b * inSize[0] + id) * inSize[1] + ih) * inSize[2] + iw) * cin
                                    for a in 0..<taps[0] {
                                        let od = id * win[0].stride - win[0].before + a * win[0].dilation
                                        guard od >= 0, od < outSize[0] else { continue }
                                        for c in 0..<taps[1] {
                                            let oh = ih * win[1].stride - win[1].before + c * win[1].dilation
                                            guard oh >= 0, oh < outSize[1] else { continue }
                                            for e in 0..<taps[2] {
                                                let ow = iw * win[2].stride - win[2].before + e * win[2].dilation
                                                guard ow >= 0, ow < outSize[2] else { continue }
                                                let y = yp.baseAddress! + (((b * outSize[0] + od) * outSize[1] + oh) * outSize[2] + ow) * cout
                                                let wTap = wp.baseAddress! + ((a * taps[1] + c) * taps[2] + e) * cin * coutG
                                                for i in 0..<cin {
                                                    let v = xRow[i]
                                                    let w = wTap + i * coutG
                                                    let yg = y + (i / cinG) * coutG
                                                    for o in 0..<coutG { yg[o] += v * w[o] }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    if let bias {
                        for p in 0..<(n * positions) {
                            for o in 0..<cout { yp[p * cout + o] += bias[o] }
                        }
                    }
                }
            }
        }
        return Float64Tensor(shape: [n] + Array(outSize.suffix(rank)) + [cout], values: out)
    }
}
