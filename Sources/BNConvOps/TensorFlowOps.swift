import BNConvCore

/// TensorFlow ops with no single ONNX equivalent, under the `TF.` prefix, with TensorFlow's
/// definitions (tensorflow/core/ops/array_ops.cc, math_ops.cc): the GraphDef reader maps the
/// rest of TensorFlow's ops onto ONNX ones.
enum TensorFlowOps {
    /// Builders by op type.
    static let builders: [String: KernelBuilder] = [
        // ONNX's Identity (ShapeOps has it too; the library takes the first).
        "Identity": { _ in ClosureKernel { values in [try OpInputs("Identity", values).required(0)] } },
        "TF.Conv2D": TensorFlowConvolution.builder(depthwise: false),
        "TF.DepthwiseConv2dNative": TensorFlowConvolution.builder(depthwise: true),
        // tf.identity_n: output k is input k (Keras's swish writes one, for its custom gradient).
        "TF.IdentityN": { _ in ClosureKernel { values in values.compactMap { $0 } } },
        "TF.ZerosLike": { _ in
            ClosureKernel { values in
                let x = try OpInputs("ZerosLike", values).required(0)
                return [HostTensor.filled(0, dtype: x.dtype, shape: x.shape)]
            }
        },
        "TF.OnesLike": { _ in
            ClosureKernel { values in
                let x = try OpInputs("OnesLike", values).required(0)
                return [HostTensor.filled(1, dtype: x.dtype, shape: x.shape)]
            }
        },
        "TF.Shape": { a in
            let out = try dtype(a, "out_type", .int32)
            return ClosureKernel { values in
                let x = try OpInputs("Shape", values).required(0)
                return [HostTensor(dtype: out, shape: [x.rank], storage: .int(x.shape.map { Int64($0) }))]
            }
        },
        "TF.Size": { a in
            let out = try dtype(a, "out_type", .int32)
            return ClosureKernel { values in
                let x = try OpInputs("Size", values).required(0)
                return [HostTensor(dtype: out, shape: [], storage: .int([Int64(x.count)]))]
            }
        },
        "TF.Rank": { _ in
            ClosureKernel { values in
                let x = try OpInputs("Rank", values).required(0)
                return [HostTensor(dtype: .int32, shape: [], storage: .int([Int64(x.rank)]))]
            }
        },
        "TF.Pack": { a in
            let axis = try a.int("axis", 0)
            return ClosureKernel { values in try [pack(values.compactMap { $0 }, axis: axis)] }
        },
        "TF.StridedSlice": { a in
            let masks = try StridedSliceMasks(begin: a.int("begin_mask", 0), end: a.int("end_mask", 0),
                                              ellipsis: a.int("ellipsis_mask", 0), newAxis: a.int("new_axis_mask", 0),
                                              shrinkAxis: a.int("shrink_axis_mask", 0))
            return ClosureKernel { values in
                let inputs = OpInputs("StridedSlice", values)
                let x = try inputs.required(0)
                guard let begin = inputs.integers(1), let end = inputs.integers(2) else {
                    throw OpError.invalid(op: "StridedSlice", problem: "begin and end are required")
                }
                let strides = inputs.integers(3) ?? Array(repeating: 1, count: begin.count)
                return [try masks.slice(x, begin: begin, end: end, strides: strides)]
            }
        },
        "TF.Slice": { _ in
            ClosureKernel { values in
                let inputs = OpInputs("Slice", values)
                let x = try inputs.required(0)
                guard let begin = inputs.integers(1), let size = inputs.integers(2), begin.count == x.rank, size.count == x.rank else {
                    throw OpError.invalid(op: "Slice", problem: "begin and size must give one entry per axis of \(x.shape)")
                }
                var lengths = [Int]()
                for axis in 0..<x.rank {
                    let length = size[axis] == -1 ? x.shape[axis] - begin[axis] : size[axis]
                    guard begin[axis] >= 0, length >= 0, begin[axis] + length <= x.shape[axis] else {
                        throw OpError.invalid(op: "Slice", problem: "begin \(begin) and size \(size) leave a tensor of shape \(x.shape)")
                    }
                    lengths.append(length)
                }
                let strides = Shapes.strides(x.shape)
                let offset = zip(begin, strides).reduce(0) { $0 + $1.0 * $1.1 }
                let indices = Shapes.indexMap(lengths) { strides }.map { $0 + offset }
                return [HostTensor(dtype: x.dtype, shape: lengths, storage: x.storage.gathered(indices))]
            }
        },
        "TF.Square": { _ in unary("Square", { $0 * $0 }, { $0 * $0 }, { $0 &* $0 }) },
        "TF.Rsqrt": { _ in unary("Rsqrt", { 1 / $0.squareRoot() }, { 1 / $0.squareRoot() }, nil) },
        "TF.SquaredDifference": { _ in
            binary("SquaredDifference", { ($0 - $1) * ($0 - $1) }, { ($0 - $1) * ($0 - $1) }, { ($0 &- $1) &* ($0 &- $1) })
        },
        "TF.DivNoNan": { _ in binary("DivNoNan", { $1 == 0 ? 0 : $0 / $1 }, { $1 == 0 ? 0 : $0 / $1 }, nil) },
        "TF.FloorDiv": { _ in binary("FloorDiv", { ($0 / $1).rounded(.down) }, { ($0 / $1).rounded(.down) }, floorDivide) },
        "TF.All": { a in logicalReduction("All", keep: try a.int("keep_dims", 0) != 0, all: true) },
        "TF.Any": { a in logicalReduction("Any", keep: try a.int("keep_dims", 0) != 0, all: false) },
        "TF.MirrorPad": { a in
            let symmetric = try a.string("mode", "REFLECT") == "SYMMETRIC"
            return ClosureKernel { values in
                let inputs = OpInputs("MirrorPad", values)
                let x = try inputs.required(0)
                guard let pads = inputs.integers(1), pads.count == 2 * x.rank else {
                    throw OpError.invalid(op: "MirrorPad", problem: "paddings must be [\(x.rank), 2]")
                }
                return [try mirrorPad(x, pads: pads, symmetric: symmetric)]
            }
        },
        "TF.BiasAdd": { a in
            let channelsFirst = try a.string("data_format", "NHWC").hasPrefix("NC")
            return ClosureKernel { values in
                let inputs = OpInputs("BiasAdd", values)
                let x = try inputs.required(0), bias = try inputs.required(1)
                guard x.rank >= 2, bias.rank == 1 else { throw OpError.invalid(op: "BiasAdd", problem: "bias must be 1-D and the value at least 2-D") }
                var shape = Array(repeating: 1, count: x.rank)
                shape[channelsFirst ? 1 : x.rank - 1] = bias.count
                return [try broadcasting("BiasAdd", x, bias.reshaped(shape), { $0 + $1 }, { $0 + $1 }, { $0 &+ $1 })]
            }
        },
        "TF.Fill": { _ in
            ClosureKernel { values in
                let inputs = OpInputs("Fill", values)
                guard let dims = inputs.integers(0) else { throw OpError.invalid(op: "Fill", problem: "dims are required") }
                let value = try inputs.required(1)
                guard value.count == 1 else { throw OpError.invalid(op: "Fill", problem: "the value must be a scalar") }
                let n = try Shapes.count(dims, op: "Fill")
                return [HostTensor(dtype: value.dtype, shape: dims, storage: value.storage.gathered(Array(repeating: 0, count: n)))]
            }
        },
    ]

    /// The dtype a type attribute names (attributes carry ``DType`` raw values).
    static func dtype(_ a: OpAttributes, _ name: String, _ fallback: DType) throws -> DType {
        guard a.has(name) else { return fallback }
        let raw = try a.string(name, fallback.rawValue)
        guard let dtype = DType(rawValue: raw) else { throw a.unsupported("with \(name) \(raw)") }
        return dtype
    }

    /// A one-input op computing floats with `f`, doubles with `d` and integers with `i` (nil: floats only).
    static func unary(_ name: String, _ f: @escaping @Sendable (Float) -> Float, _ d: @escaping @Sendable (Double) -> Double,
                      _ i: (@Sendable (Int64) -> Int64)?) -> any TensorKernel {
        ClosureKernel { values in
            let x = try OpInputs(name, values).required(0)
            switch x.storage {
            case .float(let v): return [HostTensor(dtype: x.dtype, shape: x.shape, storage: .float(v.map(f)))]
            case .double(let v): return [HostTensor(dtype: x.dtype, shape: x.shape, storage: .double(v.map(d)))]
            case .int(let v) where i != nil: return [HostTensor(dtype: x.dtype, shape: x.shape, storage: .int(v.map(i!)))]
            default: throw OpError.invalid(op: name, problem: "an input of type \(x.dtype)")
            }
        }
    }

    /// A broadcasting two-input op (nil `i`: floats only).
    static func binary(_ name: String, _ f: @escaping @Sendable (Float, Float) -> Float, _ d: @escaping @Sendable (Double, Double) -> Double,
                       _ i: (@Sendable (Int64, Int64) -> Int64)?) -> any TensorKernel {
        ClosureKernel { values in
            let inputs = OpInputs(name, values)
            let a = try inputs.required(0), b = try inputs.required(1)
            if case .int = a.storage, i == nil { throw OpError.invalid(op: name, problem: "an input of type \(a.dtype)") }
            return [try broadcasting(name, a, b, f, d, i ?? { _, _ in 0 })]
        }
    }

    /// Integer division rounding toward negative infinity (`tf.math.floordiv`); 0 for a zero divisor.
    @Sendable static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        guard b != 0, !(a == .min && b == -1) else { return 0 }
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// `a op b` broadcast, in the operands' common dtype (which they must share).
    static func broadcasting(_ name: String, _ a: HostTensor, _ b: HostTensor, _ f: (Float, Float) -> Float,
                             _ d: (Double, Double) -> Double, _ i: (Int64, Int64) -> Int64) throws -> HostTensor {
        guard a.dtype == b.dtype else {
            throw OpError.invalid(op: name, problem: "operands of types \(a.dtype) and \(b.dtype) (they must match)")
        }
        let rows = try BroadcastRows(a.shape, b.shape, op: name)
        switch (a.storage, b.storage) {
        case let (.float(x), .float(y)): return HostTensor(dtype: a.dtype, shape: rows.shape, storage: .float(rows.apply(x, y, f)))
        case let (.double(x), .double(y)): return HostTensor(dtype: a.dtype, shape: rows.shape, storage: .double(rows.apply(x, y, d)))
        case let (.int(x), .int(y)): return HostTensor(dtype: a.dtype, shape: rows.shape, storage: .int(rows.apply(x, y, i)))
        default: throw OpError.invalid(op: name, problem: "operands of type \(a.dtype) are not numbers")
        }
    }

    /// `tf.stack`: the inputs, of one shape, stacked along a new axis.
    static func pack(_ parts: [HostTensor], axis: Int) throws -> HostTensor {
        guard let first = parts.first else { throw OpError.invalid(op: "Pack", problem: "no inputs") }
        guard parts.allSatisfy({ $0.shape == first.shape && $0.dtype == first.dtype }) else {
            throw OpError.invalid(op: "Pack", problem: "inputs of different shapes or types \(parts.map(\.shape))")
        }
        let a = try Shapes.axis(axis, rank: first.rank + 1, op: "Pack")
        let outer = first.shape.prefix(a).reduce(1, *), inner = first.shape.dropFirst(a).reduce(1, *)
        var indices = [Int]()
        indices.reserveCapacity(outer * inner * parts.count)
        for o in 0..<outer {
            for p in 0..<parts.count {
                for k in 0..<inner { indices.append(p * first.count + o * inner + k) }
            }
        }
        guard let joined = HostStorage.joined(parts.map(\.storage)) else { throw OpError.invalid(op: "Pack", problem: "no inputs") }
        var shape = first.shape
        shape.insert(parts.count, at: a)
        return HostTensor(dtype: first.dtype, shape: shape, storage: joined.gathered(indices))
    }

    /// `tf.reduce_all` / `tf.reduce_any` over the axes given as input 1.
    static func logicalReduction(_ name: String, keep: Bool, all: Bool) -> any TensorKernel {
        ClosureKernel { values in
            let inputs = OpInputs(name, values)
            let x = try inputs.required(0)
            guard case .bool(let v) = x.storage else { throw OpError.invalid(op: name, problem: "an input of type \(x.dtype)") }
            let axes = try Set((inputs.integers(1) ?? Array(0..<x.rank)).map { try Shapes.axis($0, rank: x.rank, op: name) })
            let outShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            var out = Array(repeating: all, count: outShape.reduce(1, *))
            let outStrides = Shapes.strides(outShape)
            let target = Shapes.indexMap(x.shape) { outStrides.enumerated().map { axes.contains($0.offset) ? 0 : $0.element } }
            for (k, t) in target.enumerated() { out[t] = all ? (out[t] && v[k]) : (out[t] || v[k]) }
            let shape = keep ? outShape : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
            return [HostTensor(dtype: .bool, shape: shape, storage: .bool(out))]
        }
    }

    /// `tf.pad` in REFLECT or SYMMETRIC mode; `pads` is `[before0, after0, before1, ...]`.
    static func mirrorPad(_ x: HostTensor, pads: [Int], symmetric: Bool) throws -> HostTensor {
        var shape = [Int]()
        for axis in 0..<x.rank {
            let before = pads[2 * axis], after = pads[2 * axis + 1], n = x.shape[axis]
            let limit = symmetric ? n : n - 1
            guard before >= 0, after >= 0, before <= limit, after <= limit else {
                throw OpError.invalid(op: "MirrorPad", problem: "paddings \(pads) exceed what \(symmetric ? "SYMMETRIC" : "REFLECT") allows for shape \(x.shape)")
            }
            shape.append(before + n + after)
        }
        let count = try Shapes.count(shape, op: "MirrorPad")
        let strides = Shapes.strides(x.shape)
        let maps: [[Int]] = (0..<x.rank).map { axis in
            let before = pads[2 * axis], n = x.shape[axis]
            return (0..<shape[axis]).map { o in
                var i = o - before
                if i < 0 { i = symmetric ? -i - 1 : -i }
                if i >= n { i = symmetric ? 2 * n - i - 1 : 2 * n - i - 2 }
                return i * strides[axis]
            }
        }
        var indices = [Int](repeating: 0, count: count)
        var counter = Array(repeating: 0, count: x.rank)
        for k in 0..<count {
            indices[k] = (0..<x.rank).reduce(0) { $0 + maps[$1][counter[$1]] }
            var axis = x.rank - 1
            while axis >= 0 {
                counter[axis] += 1
                if counter[axis] < shape[axis] { break }
                counter[axis] = 0
                axis -= 1
            }
        }
        return HostTensor(dtype: x.dtype, shape: shape, storage: x.storage.gathered(indices))
    }
}
