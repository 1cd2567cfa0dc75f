/// Convolutions of any window form over 1 to 3 spatial axes, channels first: `Conv` (`group`,
/// `dilations`, `strides`, `pads`, `auto_pad`; W and B as runtime inputs) and `ConvTranspose`
/// (plus `output_padding` and `output_shape`).
///
/// The general fallback for the forms the typed `.conv` layers do not express. Conv lowers each
/// image and group to a matrix product over an im2col block of output rows; ConvTranspose
/// multiplies the transposed kernel with a block of input rows and scatters the columns back
/// (col2im). float16, bfloat16 and float32 compute in `Float`, float64 in `Double`.
enum ConvolutionOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "Conv": { a in ClosureKernel { values in [try conv(a, OpInputs("Conv", values))] } },
        "ConvTranspose": { a in ClosureKernel { values in [try convTranspose(a, OpInputs("ConvTranspose", values))] } },
    ]

    /// The most elements one im2col or col2im block holds (4 MiB of `Float`).
    static let blockElements = 1 << 20

    /// The checked operands of a convolution: X `(N, C, spatial...)`, W, optional B.
    struct Operands {
        /// The input.
        let x: HostTensor
        /// The weights: `(M, C/group, k...)` for Conv, `(C, M/group, k...)` for ConvTranspose.
        let w: HostTensor
        /// The bias, one value per output channel, when given.
        let b: HostTensor?
        /// The number of groups.
        let group: Int

        /// Reads and checks X, W, B and `group` (shared by Conv and ConvTranspose).
        init(_ a: OpAttributes, _ inputs: OpInputs) throws {
            x = try inputs.required(0)
            w = try inputs.required(1)
            b = inputs.optional(2)
            group = try a.int("group", 1)
            guard HostStorage.kind(of: x.dtype) == .float || HostStorage.kind(of: x.dtype) == .double else {
                throw a.invalid("input X of type \(x.dtype) (Conv computes floating-point types)")
            }
            guard w.dtype == x.dtype, b.map({ $0.dtype == x.dtype }) ?? true else {
                throw a.invalid("X, W and B of types \(x.dtype), \(w.dtype)\(b.map { ", \($0.dtype)" } ?? "") (they must match)")
            }
            guard x.rank >= 3, w.rank == x.rank else {
                throw a.invalid("X of shape \(x.shape) and W of shape \(w.shape) (both (N, C, spatial...) with 1 to 3 spatial axes)")
            }
            guard x.rank - 2 <= SlidingWindow.maximumRank else { throw a.unsupported("with \(x.rank - 2) spatial axes (1 to 3)") }
            guard group >= 1 else { throw a.invalid("attribute 'group' is \(group)") }
            if let kernel = try a.ints("kernel_shape"), kernel != Array(w.shape[2...]) {
                throw a.invalid("attribute 'kernel_shape' \(kernel) differs from W's spatial shape \(Array(w.shape[2...]))")
            }
        }

        /// Checks B holds one value per output channel.
        func checkBias(_ a: OpAttributes, outputChannels: Int) throws {
            if let b, b.count != outputChannels {
                throw a.invalid("B of shape \(b.shape) for \(outputChannels) output channels")
            }
        }
    }

    // MARK: - Conv

    /// Conv: `Y[n, m] = B[m] + Σ_{c in m's group, taps} W[m, c, tap] · X[n, c, window(tap)]`.
    static func conv(_ a: OpAttributes, _ inputs: OpInputs) throws -> HostTensor {
        let o = try Operands(a, inputs)
        let channels = o.x.shape[1], outputChannels = o.w.shape[0]
        guard o.w.shape[1] * o.group == channels, outputChannels % o.group == 0 else {
            throw a.invalid("X of shape \(o.x.shape), W of shape \(o.w.shape) and group \(o.group) do not fit (W's axis 1 × group must be X's channels, W's axis 0 a multiple of group)")
        }
        try o.checkBias(a, outputChannels: outputChannels)
        let window = try SlidingWindow.forward(a, input: Array(o.x.shape[2...]), kernel: Array(o.w.shape[2...]), ceilMode: false)
        let shape = [o.x.shape[0], outputChannels] + window.output
        let count = try Shapes.count(shape, op: "Conv")
        switch (o.x.storage, o.w.storage) {
        case let (.float(x), .float(w)):
            let bias: [Float]? = if case .float(let v)? = o.b?.storage { v } else { nil }
            let out = convolve(x, w, bias, batch: o.x.shape[0], channels: channels, outputChannels: outputChannels,
                               group: o.group, window: window.lifted, count: count)
            return HostTensor(dtype: o.x.dtype, shape: shape, storage: .float(out))
        case let (.double(x), .double(w)):
            let bias: [Double]? = if case .double(let v)? = o.b?.storage { v } else { nil }
            let out = convolve(x, w, bias, batch: o.x.shape[0], channels: channels, outputChannels: outputChannels,
                               group: o.group, window: window.lifted, count: count)
            return HostTensor(dtype: o.x.dtype, shape: shape, storage: .double(out))
        default:
            throw a.invalid("operands of type \(o.x.dtype)")
        }
    }

    /// The convolution of `x` `(batch, channels, D, H, W)` with `w` `(outputChannels,
    /// channels/group, kD, kH, kW)` over a 3-D `window`, plus `bias`: `count` elements
    /// `(batch, outputChannels, oD, oH, oW)`.
    static func convolve<T: BinaryFloatingPoint>(_ x: [T], _ w: [T], _ bias: [T]?, batch: Int, channels: Int,
                                                 outputChannels: Int, group: Int, window: SlidingWindow,
                                                 count: Int) -> [T] {
        var out = [T](repeating: 0, count: count)
        let groupChannels = channels / group, groupOutputs = outputChannels / group
        let taps = window.kernel.reduce(1, *)
        let depth = groupChannels * taps  // rows of the im2col matrix
        let (inD, inH, inW) = (window.input[0], window.input[1], window.input[2])
        let (outD, outH, outW) = (window.output[0], window.output[1], window.output[2])
        let plane = inD * inH * inW, outPlane = outD * outH * outW
        guard count > 0, outW > 0 else { return out }
        // Whole output rows per block, at least one.
        let rowsPerBlock = max(1, blockElements / max(1, depth * outW))
        let outRows = outD * outH
        var columns = [T](repeating: 0, count: max(1, depth * min(rowsPerBlock, outRows) * outW))
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
        out.withUnsafeMutableBufferPointer { op in columns.withUnsafeMutableBufferPointer { cp in
            guard let xb = xp.baseAddress, let wb = wp.baseAddress, let ob = op.baseAddress, let cb = cp.baseAddress else { return }
            for n in 0..<batch {
                for g in 0..<group {
                    let image = xb + (n * channels + g * groupChannels) * plane
                    let filters = wb + g * groupOutputs * depth
                    let result = ob + (n * outputChannels + g * groupOutputs) * outPlane
                    var row0 = 0
                    while row0 < outRows {
                        let rows = min(rowsPerBlock, outRows - row0)
                        let width = rows * outW
                        // im2col: row r = (c, kd, kh, kw) holds that tap's input for every output position.
                        for r in 0..<depth {
                            let c = r / taps, tap = r % taps
                            let kd = tap / (window.kernel[1] * window.kernel[2])
                            let kh = (tap / window.kernel[2]) % window.kernel[1], kw = tap % window.kernel[2]
                            let source = image + c * plane
                            let target = cb + r * width
                            for block in 0..<rows {
                                let od = (row0 + block) / outH, oh = (row0 + block) % outH
                                let id = od * window.strides[0] - window.padBegin[0] + kd * window.dilations[0]
                                let ih = oh * window.strides[1] - window.padBegin[1] + kh * window.dilations[1]
                                let line = target + block * outW
                                guard id >= 0, id < inD, ih >= 0, ih < inH else {
                                    line.update(repeating: 0, count: outW)
                                    continue
                                }
                                let inputRow = source + (id * inH + ih) * inW
                                let start = kw * window.dilations[2] - window.padBegin[2], step = window.strides[2]
                                for ow in 0..<outW {
                                    let iw = start + ow * step
                                    line[ow] = iw >= 0 && iw < inW ? inputRow[iw] : 0
                                }
                            }
                        }
                        MatrixProduct.accumulate(m: groupOutputs, n: width, k: depth, filters, lda: depth,
                                                 cb, ldb: width, result + row0 * outW, ldc: outPlane)
                        row0 += rows
                    }
                }
            }
        } } } }
        if let bias { addBias(bias, to: &out, batch: batch, channels: outputChannels, plane: outPlane) }
        return out
    }

    /// Adds `bias[c]` to every element of channel `c` of a `(batch, channels, plane)` array.
    static func addBias<T: BinaryFloatingPoint>(_ bias: [T], to out: inout [T], batch: Int, channels: Int, plane: Int) {
        out.withUnsafeMutableBufferPointer { op in
            guard let base = op.baseAddress else { return }
            for n in 0..<batch {
                for c in 0..<channels {
                    let value = bias[c], channel = base + (n * channels + c) * plane
                    for i in 0..<plane { channel[i] += value }
                }
            }
        }
    }

    // MARK: - ConvTranspose

    /// ConvTranspose: every input element spreads `X[n, c, i] · W[c, m, tap]` to output position
    /// `i · stride - padBegin + tap · dilation` of channel `m` (in `c`'s group), plus B.
    static func convTranspose(_ a: OpAttributes, _ inputs: OpInputs) throws -> HostTensor {
        let o = try Operands(a, inputs)
        let channels = o.x.shape[1]
        guard o.w.shape[0] == channels, channels % o.group == 0 else {
            throw a.invalid("X of shape \(o.x.shape), W of shape \(o.w.shape) and group \(o.group) do not fit (W's axis 0 must be X's channels, a multiple of group)")
        }
        let outputChannels = o.w.shape[1] * o.group
        try o.checkBias(a, outputChannels: outputChannels)
        let window = try transposedWindow(a, input: Array(o.x.shape[2...]), kernel: Array(o.w.shape[2...]))
        // The window runs from the result (its `input`) to X (its `output`).
        let shape = [o.x.shape[0], outputChannels] + window.input
        let count = try Shapes.count(shape, op: "ConvTranspose")
        switch (o.x.storage, o.w.storage) {
        case let (.float(x), .float(w)):
            let bias: [Float]? = if case .float(let v)? = o.b?.storage { v } else { nil }
            let out = spread(x, w, bias, batch: o.x.shape[0], channels: channels, outputChannels: outputChannels,
                             group: o.group, window: window.lifted, count: count)
            return HostTensor(dtype: o.x.dtype, shape: shape, storage: .float(out))
        case let (.double(x), .double(w)):
            let bias: [Double]? = if case .double(let v)? = o.b?.storage { v } else { nil }
            let out = spread(x, w, bias, batch: o.x.shape[0], channels: channels, outputChannels: outputChannels,
                             group: o.group, window: window.lifted, count: count)
            return HostTensor(dtype: o.x.dtype, shape: shape, storage: .double(out))
        default:
            throw a.invalid("operands of type \(o.x.dtype)")
        }
    }

    /// The window of a ConvTranspose seen from its output: `input` here is the output's spatial
    /// shape and `output` the ConvTranspose input's (the window maps output positions of the
    /// equivalent Conv onto the ConvTranspose's input). Sizes follow ONNX: `output_shape` when given
    /// (its pads derived, SAME_UPPER putting the odd one at the end, otherwise at the beginning),
    /// `auto_pad` SAME_* for `input · stride`, else `stride · (in - 1) + output_padding +
    /// extent - pads`.
    static func transposedWindow(_ a: OpAttributes, input: [Int], kernel: [Int]) throws -> SlidingWindow {
        let rank = input.count
        let strides = try a.ints("strides") ?? Array(repeating: 1, count: rank)
        let dilations = try a.ints("dilations") ?? Array(repeating: 1, count: rank)
        try SlidingWindow.check(a, kernel: kernel, strides: strides, dilations: dilations, rank: rank)
        let outputPadding = try a.ints("output_padding") ?? Array(repeating: 0, count: rank)
        try SlidingWindow.checkBorders(a, "output_padding", outputPadding, count: rank)
        let autoPad = try a.string("auto_pad", "NOTSET")
        guard ["NOTSET", "", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else {
            throw a.invalid("attribute 'auto_pad' is '\(autoPad)' (NOTSET, VALID, SAME_UPPER or SAME_LOWER)")
        }
        let extents = (0..<rank).map { (kernel[$0] - 1) * dilations[$0] + 1 }
        let full = (0..<rank).map { strides[$0] * (input[$0] - 1) + outputPadding[$0] + extents[$0] }
        var padBegin = Array(repeating: 0, count: rank), padEnd = padBegin
        var output = Array(repeating: 0, count: rank)
        var target: [Int]?
        if var given = try a.ints("output_shape") {
            if given.count == rank + 2 { given = Array(given.dropFirst(2)) }
            guard given.count == rank, given.allSatisfy({ $0 >= 0 && $0 <= 1 << 40 }) else {
                throw a.invalid("attribute 'output_shape' \(given) (one size per spatial axis)")
            }
            target = given
        } else if autoPad.hasPrefix("SAME") {
            target = (0..<rank).map { input[$0] * strides[$0] }
        }
        if let target {
            for i in 0..<rank {
                let total = full[i] - target[i]
                let half = total >= 0 ? total / 2 : -((-total + 1) / 2)  // floor division
                padBegin[i] = autoPad == "SAME_UPPER" ? half : total - half
                padEnd[i] = total - padBegin[i]
                output[i] = target[i]
            }
        } else if autoPad == "VALID" {
            output = full
        } else {
            let pads = try a.ints("pads") ?? Array(repeating: 0, count: 2 * rank)
            try SlidingWindow.checkBorders(a, "pads", pads, count: 2 * rank)
            for i in 0..<rank {
                padBegin[i] = pads[i]
                padEnd[i] = pads[i + rank]
                output[i] = full[i] - pads[i] - pads[i + rank]
            }
        }
        guard output.allSatisfy({ $0 >= 0 }) else {
            throw a.invalid("the output's spatial shape \(output) is negative (pads larger than the result)")
        }
        return SlidingWindow(input: output, kernel: kernel, strides: strides, dilations: dilations,
                             padBegin: padBegin, padEnd: padEnd, output: input)
    }

    /// The transposed convolution of `x` `(batch, channels, D, H, W)` with `w` `(channels,
    /// outputChannels/group, kD, kH, kW)` (`window.output` is x's spatial shape, `window.input`
    /// the result's), plus `bias`: `count` elements `(batch, outputChannels, oD, oH, oW)`.
    static func spread<T: BinaryFloatingPoint>(_ x: [T], _ w: [T], _ bias: [T]?, batch: Int, channels: Int,
                                               outputChannels: Int, group: Int, window: SlidingWindow,
                                               count: Int) -> [T] {
        var out = [T](repeating: 0, count: count)
        let groupChannels = channels / group, groupOutputs = outputChannels / group
        let taps = window.kernel.reduce(1, *)
        let depth = groupOutputs * taps  // rows of the column matrix: (m, kd, kh, kw)
        let (outD, outH, outW) = (window.input[0], window.input[1], window.input[2])
        let (inD, inH, inW) = (window.output[0], window.output[1], window.output[2])
        let plane = inD * inH * inW, outPlane = outD * outH * outW
        guard count > 0, plane > 0 else {
            if let bias { addBias(bias, to: &out, batch: batch, channels: outputChannels, plane: outPlane) }
            return out
        }
        let inRows = inD * inH
        let rowsPerBlock = max(1, blockElements / max(1, depth * inW))
        var columns = [T](repeating: 0, count: max(1, depth * min(rowsPerBlock, inRows) * inW))
        // W of one group, transposed to (depth, groupChannels) so the product runs along input rows.
        var filters = [T](repeating: 0, count: depth * groupChannels)
        x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in columns.withUnsafeMutableBufferPointer { cp in
            guard let xb = xp.baseAddress, let ob = op.baseAddress, let cb = cp.baseAddress else { return }
            for g in 0..<group {
                for c in 0..<groupChannels {
                    for r in 0..<depth { filters[r * groupChannels + c] = w[(g * groupChannels + c) * depth + r] }
                }
                filters.withUnsafeBufferPointer { fp in
                    guard let fb = fp.baseAddress else { return }
                    for n in 0..<batch {
                        let image = xb + (n * channels + g * groupChannels) * plane
                        let result = ob + (n * outputChannels + g * groupOutputs) * outPlane
                        var row0 = 0
                        while row0 < inRows {
                            let rows = min(rowsPerBlock, inRows - row0)
                            let width = rows * inW
                            cb.update(repeating: 0, count: depth * width)
                            MatrixProduct.accumulate(m: depth, n: width, k: groupChannels, fb, lda: groupChannels,
                                                     image + row0 * inW, ldb: plane, cb, ldc: width)
                            // col2im: column (m, tap) of input position i adds to output position i·s - pad + tap·d.
                            for r in 0..<depth {
                                let m = r / taps, tap = r % taps
                                let kd = tap / (window.kernel[1] * window.kernel[2])
                                let kh = (tap / window.kernel[2]) % window.kernel[1], kw = tap % window.kernel[2]
                                let channel = result + m * outPlane
                                let source = cb + r * width
                                for block in 0..<rows {
                                    let id = (row0 + block) / inH, ih = (row0 + block) % inH
                                    let od = id * window.strides[0] - window.padBegin[0] + kd * window.dilations[0]
                                    let oh = ih * window.strides[1] - window.padBegin[1] + kh * window.dilations[1]
                                    guard od >= 0, od < outD, oh >= 0, oh < outH else { continue }
                                    let outputRow = channel + (od * outH + oh) * outW
                                    let line = source + block * inW
                                    let start = kw * window.dilations[2] - window.padBegin[2], step = window.strides[2]
                                    for iw in 0..<inW {
                                        let ow = start + iw * step
                                        if ow >= 0 && ow < outW { outputRow[ow] += line[iw] }
                                    }
                                }
                            }
                            row0 += rows
                        }
                    }
                }
            }
        } } }
        if let bias { addBias(bias, to: &out, batch: batch, channels: outputChannels, plane: outPlane) }
        return out
    }
}
