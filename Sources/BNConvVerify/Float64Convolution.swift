/// Convolutions of the float64 reference (``Float64Reference``) on channels-last values
/// `(N, spatial..., C)`, written from their definitions.
///
/// Forward (TensorFlow `conv`, grouped as ONNX `Conv` `group`):
/// `y[n, p, g*G' + o] = b[g*G' + o] + sum over taps t and i < G of x[n, p*s - before + t*d, g*G + i] * w[t, i, g*G' + o]`
/// with `G` input and `G'` output channels per group; a tap that lands in the padding adds nothing.
/// Transposed (the forward convolution's gradient with respect to its input, TensorFlow
/// `conv2d_transpose`, ONNX `ConvTranspose`): every input `x[n, q, c]` adds `x * w[t, c, o]` into
/// `y[n, q*s - before + t*d, g*G' + o]` for `c` in group `g`.
///
/// Both go tap by tap and input channel by input channel, each kernel row (its `G'` outputs) applied
/// to every position the tap links, so the kernel is read once however many positions there are.
enum Float64Convolution {
    /// The forward convolution of `x` (`(N, spatial..., groups * G)`) with `kernel` (`(taps..., G, out)`).
    static func forward(_ x: Float64Tensor, kernel: Float64KernelView, groups: Int, windows: [Float64Window], bias: [Double]?,
                        budget: inout Float64Budget) throws -> Float64Tensor {
        switch kernel.elements {
        case .floats(let w): return try forward(x, kernel: w, shape: kernel.shape, groups: groups, windows: windows, bias: bias, budget: &budget)
        case .doubles(let w): return try forward(x, kernel: w, shape: kernel.shape, groups: groups, windows: windows, bias: bias, budget: &budget)
        }
    }

    /// The transposed convolution of `x` (`(N, spatial..., in)`) with `kernel` (`(taps..., in, G')`)
    /// in `groups` groups: `groups * G'` output channels.
    static func transposed(_ x: Float64Tensor, kernel: Float64KernelView, groups: Int, windows: [Float64Window], bias: [Double]?,
                           budget: inout Float64Budget) throws -> Float64Tensor {
        switch kernel.elements {
        case .floats(let w): return try transposed(x, kernel: w, shape: kernel.shape, groups: groups, windows: windows, bias: bias, budget: &budget)
        case .doubles(let w): return try transposed(x, kernel: w, shape: kernel.shape, groups: groups, windows: windows, bias: bias, budget: &budget)
        }
    }

    /// ``forward(_:kernel:groups:windows:bias:budget:)`` over the kernel's values as stored (float32
    /// ones widened as they are read).
    private static func forward<W: BinaryFloatingPoint>(_ x: Float64Tensor, kernel wp: UnsafeBufferPointer<W>, shape kernelShape: [Int], groups: Int,
                                                        windows: [Float64Window], bias: [Double]?, budget: inout Float64Budget) throws -> Float64Tensor {
        let rank = windows.count
        guard x.shape.count == rank + 2, kernelShape.count == rank + 2, groups >= 1 else {
            throw Float64Reference.Unsupported("a convolution of \(rank) spatial axes over \(x.shape) with a kernel \(kernelShape)")
        }
        let cin = x.shape[rank + 1], cinG = kernelShape[rank], cout = kernelShape[rank + 1]
        guard cinG * groups == cin, cout % groups == 0, zip(windows, kernelShape).allSatisfy({ $0.kernel == $1 }) else {
            throw Float64Reference.Unsupported("a kernel \(kernelShape) in \(groups) group(s) cannot read \(cin) channels")
        }
        let coutG = cout / groups
        let n = x.shape[0]
        let inSize = Array(x.shape[1...rank]), outSize = windows.map(\.output)
        try budget.spend(values: [n] + outSize + [cout], multiplyAdds: [n] + outSize + windows.map(\.kernel) + [cinG, cout])
        let inPositions = inSize.reduce(1, *), outPositions = outSize.reduce(1, *)
        var out = [Double](repeating: 0, count: n * outPositions * cout)
        let links = tapLinks(windows, inSize: inSize, transposed: false)
        guard wp.count == kernelShape.reduce(1, *) else {
            throw Float64Reference.Unsupported("a kernel of shape \(kernelShape) holds \(wp.count) values")
        }
        x.values.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { yp in
                for b in 0..<n {
                    let xb = xp.baseAddress! + b * inPositions * cin, yb = yp.baseAddress! + b * outPositions * cout
                    if let bias {
                        for p in 0..<outPositions { for o in 0..<cout { yb[p * cout + o] = bias[o] } }
                    }
                    // A kernel without values (a zero-sized axis) adds nothing.
                    for (tap, pairs) in links.enumerated() where wp.baseAddress != nil {
                        for g in 0..<groups {
                            for i in 0..<cinG {
                                let w = wp.baseAddress! + (tap * cinG + i) * cout + g * coutG
                                let channel = g * cinG + i
                                for (from, to) in pairs {
                                    axpy(yb + to * cout + g * coutG, xb[from * cin + channel], w, coutG)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Float64Tensor(shape: [n] + outSize + [cout], values: out)
    }

    /// ``transposed(_:kernel:groups:windows:bias:budget:)`` over the kernel's values as stored.
    private static func transposed<W: BinaryFloatingPoint>(_ x: Float64Tensor, kernel wp: UnsafeBufferPointer<W>, shape kernelShape: [Int], groups: Int,
                                                           windows: [Float64Window], bias: [Double]?, budget: inout Float64Budget) throws -> Float64Tensor {
        let rank = windows.count
        guard x.shape.count == rank + 2, kernelShape.count == rank + 2, groups >= 1 else {
            throw Float64Reference.Unsupported("a transposed convolution of \(rank) spatial axes over \(x.shape) with a kernel \(kernelShape)")
        }
        let cin = x.shape[rank + 1], coutG = kernelShape[rank + 1]
        guard kernelShape[rank] == cin, cin % groups == 0, zip(windows, kernelShape).allSatisfy({ $0.kernel == $1 }) else {
            throw Float64Reference.Unsupported("a transposed kernel \(kernelShape) in \(groups) group(s) cannot read \(cin) channels")
        }
        let cinG = cin / groups, cout = coutG * groups
        let n = x.shape[0]
        let inSize = Array(x.shape[1...rank]), outSize = windows.map(\.output)
        guard outSize.allSatisfy({ $0 >= 0 }) else { throw Float64Reference.Unsupported("a transposed convolution output of \(outSize)") }
        try budget.spend(values: [n] + outSize + [cout], multiplyAdds: [n] + inSize + windows.map(\.kernel) + [cin, coutG])
        let inPositions = inSize.reduce(1, *), outPositions = outSize.reduce(1, *)
        var out = [Double](repeating: 0, count: n * outPositions * cout)
        let links = tapLinks(windows, inSize: inSize, transposed: true)
        guard wp.count == kernelShape.reduce(1, *) else {
            throw Float64Reference.Unsupported("a kernel of shape \(kernelShape) holds \(wp.count) values")
        }
        x.values.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { yp in
                for b in 0..<n {
                    let xb = xp.baseAddress! + b * inPositions * cin, yb = yp.baseAddress! + b * outPositions * cout
                    for (tap, pairs) in links.enumerated() where wp.baseAddress != nil {
                        for i in 0..<cin {
                            let w = wp.baseAddress! + (tap * cin + i) * coutG
                            let first = (i / cinG) * coutG
                            for (from, to) in pairs {
                                axpy(yb + to * cout + first, xb[from * cin + i], w, coutG)
                            }
                        }
                    }
                    if let bias {
                        for p in 0..<outPositions { for o in 0..<cout { yb[p * cout + o] += bias[o] } }
                    }
                }
            }
        }
        return Float64Tensor(shape: [n] + outSize + [cout], values: out)
    }

    /// Per tap (row-major over the window), the (input position, output position) pairs it links,
    /// positions row-major over the spatial axes: forward, output `o` reads input
    /// `o * stride - before + t * dilation`; transposed, input `i` adds into output
    /// `i * stride - before + t * dilation`. Pairs that fall outside either side are left out.
    static func tapLinks(_ windows: [Float64Window], inSize: [Int], transposed: Bool) -> [[(from: Int, to: Int)]] {
        let outSize = windows.map(\.output)
        // Per axis and tap, the (input index, output index) pairs along that axis.
        let perAxis: [[[(Int, Int)]]] = windows.indices.map { a in
            let w = windows[a]
            return (0..<w.kernel).map { t in
                let driving = transposed ? inSize[a] : outSize[a]
                return (0..<driving).compactMap { k -> (Int, Int)? in
                    let other = k * w.stride - w.before + t * w.dilation
                    if transposed { return other >= 0 && other < outSize[a] ? (k, other) : nil }
                    return other >= 0 && other < inSize[a] ? (other, k) : nil
                }
            }
        }
        // Taps and pairs combine axis by axis, from one tap linking position 0 to position 0 of no
        // axes: each axis multiplies the taps by its own and the flat indices by its size.
        var links: [[(from: Int, to: Int)]] = [[(0, 0)]]
        for a in windows.indices {
            var next: [[(from: Int, to: Int)]] = []
            for pairs in links {
                for axisPairs in perAxis[a] {
                    var combined: [(from: Int, to: Int)] = []
                    combined.reserveCapacity(pairs.count * axisPairs.count)
                    for (from, to) in pairs {
                        for (i, o) in axisPairs { combined.append((from * inSize[a] + i, to * outSize[a] + o)) }
                    }
                    next.append(combined)
                }
            }
            links = next
        }
        return links
    }

    /// `y[k] += a * x[k]` for `k < count`, each `x[k]` widened to Double exactly.
    @inline(__always)
    private static func axpy<W: BinaryFloatingPoint>(_ y: UnsafeMutablePointer<Double>, _ a: Double, _ x: UnsafePointer<W>, _ count: Int) {
        for k in 0..<count { y[k] += a * Double(x[k]) }
    }
}
