import Foundation

/// Pooling over 1 to 3 spatial axes, channels first: `MaxPool` (`ceil_mode`, `dilations`, `pads`,
/// `auto_pad`, `storage_order`, the optional Indices output; float and 8-bit integer types),
/// `AveragePool` (`ceil_mode`, `count_include_pad`, `dilations`), `LpPool` (`p`), and their global
/// forms `GlobalMaxPool GlobalAveragePool GlobalLpPool`.
///
/// The general fallback for the forms the typed `.pool` layers do not express. Sums accumulate
/// in `Double`; float16, bfloat16 and float32 are kept as `Float`, float64 as `Double`.
enum PoolingOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "MaxPool": { a in
            let settings = try Settings(a)
            return ClosureKernel { values in try maxPool(a, settings, try OpInputs("MaxPool", values).required(0)) }
        },
        "AveragePool": { a in
            let settings = try Settings(a)
            let includePad = try a.int("count_include_pad", 0) != 0
            return ClosureKernel { values in
                [try sumPool(a, settings, try OpInputs("AveragePool", values).required(0), power: nil, includePad: includePad)]
            }
        },
        "LpPool": { a in
            let settings = try Settings(a)
            let p = try a.float("p", 2)
            guard p > 0 else { throw a.invalid("attribute 'p' is \(p) (it must be positive)") }
            return ClosureKernel { values in
                [try sumPool(a, settings, try OpInputs("LpPool", values).required(0), power: p, includePad: false)]
            }
        },
        "GlobalMaxPool": { a in ClosureKernel { values in [try globalPool(a, try OpInputs("GlobalMaxPool", values).required(0), .max)] } },
        "GlobalAveragePool": { a in
            ClosureKernel { values in [try globalPool(a, try OpInputs("GlobalAveragePool", values).required(0), .average)] }
        },
        "GlobalLpPool": { a in
            let p = try a.float("p", 2)
            guard p > 0 else { throw a.invalid("attribute 'p' is \(p) (it must be positive)") }
            return ClosureKernel { values in [try globalPool(a, try OpInputs("GlobalLpPool", values).required(0), .lp(p))] }
        },
    ]

    /// The attributes every windowed pool reads once: the kernel, ceil_mode and storage_order.
    struct Settings: Sendable {
        /// `kernel_shape` (required).
        let kernel: [Int]
        /// `ceil_mode`: the output size rounds up.
        let ceilMode: Bool
        /// `storage_order` (MaxPool's Indices): column-major when true.
        let columnMajor: Bool

        /// Reads `a`.
        init(_ a: OpAttributes) throws {
            guard let kernel = try a.ints("kernel_shape") else { throw a.invalid("attribute 'kernel_shape' is missing") }
            self.kernel = kernel
            ceilMode = try a.int("ceil_mode", 0) != 0
            columnMajor = try a.int("storage_order", 0) != 0
        }
    }

    /// The window of `settings` over `x` `(N, C, spatial...)`, checked.
    static func window(_ a: OpAttributes, _ settings: Settings, _ x: HostTensor) throws -> SlidingWindow {
        guard x.rank == settings.kernel.count + 2 else {
            throw a.invalid("input of shape \(x.shape) for kernel_shape \(settings.kernel) (needs rank \(settings.kernel.count + 2))")
        }
        return try SlidingWindow.forward(a, input: Array(x.shape[2...]), kernel: settings.kernel, ceilMode: settings.ceilMode)
    }

    // MARK: - MaxPool

    /// MaxPool's outputs: Y, and Indices (int64 positions in the flattened input, row-major or, with
    /// storage_order 1, column-major within each spatial plane). The first largest element wins; a
    /// window holding no input element gives 0 and index -1.
    static func maxPool(_ a: OpAttributes, _ settings: Settings, _ x: HostTensor) throws -> [HostTensor] {
        let window = try window(a, settings, x)
        let shape = Array(x.shape[..<2]) + window.output
        let count = try Shapes.count(shape, op: a.op)
        let planes = x.shape[0] * x.shape[1]
        let lifted = window.lifted
        let indices: [Int64]
        let values: HostStorage
        switch x.storage {
        case .float(let v):
            let (y, i) = maximum(v, planes: planes, window: lifted, count: count, columnMajor: settings.columnMajor)
            values = .float(y)
            indices = i
        case .double(let v):
            let (y, i) = maximum(v, planes: planes, window: lifted, count: count, columnMajor: settings.columnMajor)
            values = .double(y)
            indices = i
        case .int(let v):
            let (y, i) = maximum(v, planes: planes, window: lifted, count: count, columnMajor: settings.columnMajor)
            values = .int(y)
            indices = i
        case .bool:
            throw a.invalid("input of type \(x.dtype) (MaxPool computes numbers)")
        }
        return [HostTensor(dtype: x.dtype, shape: shape, storage: values),
                HostTensor(dtype: .int64, shape: shape, storage: .int(indices))]
    }

    /// The largest element of every window of `planes` planes of `x` over a 3-D `window`, with its
    /// flattened input index.
    static func maximum<T: Comparable & Numeric>(_ x: [T], planes: Int, window: SlidingWindow, count: Int,
                                                 columnMajor: Bool) -> ([T], [Int64]) {
        var out = [T](repeating: 0, count: count)
        var indices = [Int64](repeating: -1, count: count)
        let (inD, inH, inW) = (window.input[0], window.input[1], window.input[2])
        let plane = inD * inH * inW
        let rangesD = window.tapRanges(0), rangesH = window.tapRanges(1), rangesW = window.tapRanges(2)
        let (dD, dH, dW) = (window.dilations[0], window.dilations[1], window.dilations[2])
        var k = 0
        x.withUnsafeBufferPointer { xp in
            for p in 0..<planes {
                for od in 0..<window.output[0] {
                    let sD = od * window.strides[0] - window.padBegin[0]
                    for oh in 0..<window.output[1] {
                        let sH = oh * window.strides[1] - window.padBegin[1]
                        for ow in 0..<window.output[2] {
                            let sW = ow * window.strides[2] - window.padBegin[2]
                            var best: T = 0
                            var at = -1
                            for jd in rangesD[od] {
                                let id = sD + jd * dD
                                for jh in rangesH[oh] {
                                    let row = p * plane + (id * inH + sH + jh * dH) * inW
                                    for jw in rangesW[ow] {
                                        let i = row + sW + jw * dW
                                        if at < 0 || xp[i] > best {
                                            best = xp[i]
                                            at = i
                                        }
                                    }
                                }
                            }
                            out[k] = best
                            if at >= 0 {
                                if columnMajor {
                                    let within = at - p * plane
                                    let d = within / (inH * inW), h = (within / inW) % inH, w = within % inW
                                    indices[k] = Int64(p * plane + d + h * inD + w * inD * inH)
                                } else {
                                    indices[k] = Int64(at)
                                }
                            }
                            k += 1
                        }
                    }
                }
            }
        }
        return (out, indices)
    }

    // MARK: - AveragePool and LpPool

    /// AveragePool (`power` nil: the mean of the window's input elements, or with `includePad` of
    /// all its taps, border counted as 0) or LpPool (`power` p:
    /// `(Σ |x|^p)^(1/p)` over the window's input elements).
    static func sumPool(_ a: OpAttributes, _ settings: Settings, _ x: HostTensor, power: Double?,
                        includePad: Bool) throws -> HostTensor {
        let window = try window(a, settings, x)
        let shape = Array(x.shape[..<2]) + window.output
        let count = try Shapes.count(shape, op: a.op)
        let planes = x.shape[0] * x.shape[1]
        switch x.storage {
        case .float(let v):
            let y = windowSums(v, planes: planes, window: window.lifted, count: count, power: power, includePad: includePad)
            return HostTensor(dtype: x.dtype, shape: shape, storage: .float(y.map { Float($0) }))
        case .double(let v):
            let y = windowSums(v, planes: planes, window: window.lifted, count: count, power: power, includePad: includePad)
            return HostTensor(dtype: x.dtype, shape: shape, storage: .double(y))
        default:
            throw a.invalid("input of type \(x.dtype) (\(a.op) computes floating-point types)")
        }
    }

    /// Per window of a 3-D `window` over `planes` planes of `x`: the mean (`power` nil) or the
    /// p-norm of its elements, in `Double`.
    static func windowSums<T: BinaryFloatingPoint>(_ x: [T], planes: Int, window: SlidingWindow, count: Int,
                                                   power: Double?, includePad: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        let (inD, inH, inW) = (window.input[0], window.input[1], window.input[2])
        let plane = inD * inH * inW
        let rangesD = window.tapRanges(0), rangesH = window.tapRanges(1), rangesW = window.tapRanges(2)
        // With count_include_pad every tap counts, border and the cells ceil_mode adds past it as 0
        // (the ONNX backend tests' reference).
        let volume = window.kernel.reduce(1, *)
        let (dD, dH, dW) = (window.dilations[0], window.dilations[1], window.dilations[2])
        var k = 0
        x.withUnsafeBufferPointer { xp in
            for p in 0..<planes {
                for od in 0..<window.output[0] {
                    let sD = od * window.strides[0] - window.padBegin[0]
                    for oh in 0..<window.output[1] {
                        let sH = oh * window.strides[1] - window.padBegin[1]
                        for ow in 0..<window.output[2] {
                            let sW = ow * window.strides[2] - window.padBegin[2]
                            var sum = 0.0
                            for jd in rangesD[od] {
                                let id = sD + jd * dD
                                for jh in rangesH[oh] {
                                    let row = p * plane + (id * inH + sH + jh * dH) * inW + sW
                                    if let power {
                                        for jw in rangesW[ow] { sum += pow(abs(Double(xp[row + jw * dW])), power) }
                                    } else {
                                        for jw in rangesW[ow] { sum += Double(xp[row + jw * dW]) }
                                    }
                                }
                            }
                            if let power {
                                out[k] = pow(sum, 1 / power)
                            } else {
                                let divisor = includePad ? volume
                                    : rangesD[od].count * rangesH[oh].count * rangesW[ow].count
                                out[k] = divisor > 0 ? sum / Double(divisor) : .nan
                            }
                            k += 1
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: - Global pools

    /// What a global pool computes over each plane.
    enum GlobalKind {
        /// The largest element.
        case max
        /// The mean.
        case average
        /// The p-norm.
        case lp(Double)
    }

    /// The global pool of `x` `(N, C, spatial...)` over its spatial axes: `(N, C, 1, ...)`.
    static func globalPool(_ a: OpAttributes, _ x: HostTensor, _ kind: GlobalKind) throws -> HostTensor {
        guard x.rank >= 2 else { throw a.invalid("input of shape \(x.shape) (needs (N, C, spatial...))") }
        let planes = x.shape[0] * x.shape[1]
        let plane = x.shape[2...].reduce(1, *)
        let shape = Array(x.shape[..<2]) + Array(repeating: 1, count: x.rank - 2)
        if case .max = kind {
            guard plane > 0 || planes == 0 else { throw a.invalid("input of shape \(x.shape) has empty planes") }
            switch x.storage {
            case .float(let v): return HostTensor(dtype: x.dtype, shape: shape, storage: .float(planeMaxima(v, planes: planes, plane: plane)))
            case .double(let v): return HostTensor(dtype: x.dtype, shape: shape, storage: .double(planeMaxima(v, planes: planes, plane: plane)))
            case .int(let v): return HostTensor(dtype: x.dtype, shape: shape, storage: .int(planeMaxima(v, planes: planes, plane: plane)))
            case .bool: throw a.invalid("input of type \(x.dtype) (\(a.op) computes numbers)")
            }
        }
        func reduce<T: BinaryFloatingPoint>(_ v: [T]) -> [Double] {
            (0..<planes).map { p in
                let base = p * plane
                var sum = 0.0
                switch kind {
                case .lp(let power):
                    for i in base..<base + plane { sum += pow(abs(Double(v[i])), power) }
                    return pow(sum, 1 / power)
                default:
                    for i in base..<base + plane { sum += Double(v[i]) }
                    return plane > 0 ? sum / Double(plane) : .nan
                }
            }
        }
        switch x.storage {
        case .float(let v): return HostTensor(dtype: x.dtype, shape: shape, storage: .float(reduce(v).map { Float($0) }))
        case .double(let v): return HostTensor(dtype: x.dtype, shape: shape, storage: .double(reduce(v)))
        default: throw a.invalid("input of type \(x.dtype) (\(a.op) computes floating-point types)")
        }
    }

    /// The largest element of each of `planes` consecutive runs of `plane` elements.
    static func planeMaxima<T: Comparable>(_ v: [T], planes: Int, plane: Int) -> [T] {
        (0..<planes).map { p in
            var best = v[p * plane]
            for i in p * plane + 1 ..< (p + 1) * plane where v[i] > best { best = v[i] }
            return best
        }
    }
}
