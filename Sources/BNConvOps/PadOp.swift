/// `Pad`: borders added to (or, negative, cut from) each axis.
extension ShapeOps {
    /// The padding modes of ONNX Pad (`wrap` from opset 19).
    enum PadMode: String {
        /// A constant value.
        case constant
        /// The input mirrored about its edge elements (which are not repeated).
        case reflect
        /// The edge elements repeated.
        case edge
        /// The input repeated periodically.
        case wrap
    }

    /// `Pad`: `pads` (`[x1_begin, x2_begin, ..., x1_end, x2_end]`; negative ones crop) from the
    /// `paddings` (opset 1) or `pads` (opset 2 to 10) attribute or input 1 (opset 11), along
    /// `axes` (input 3, opset 18; default all), filled per `mode` (default `constant`, the value
    /// from the `value` attribute before opset 11 or input 2 from 11, default 0).
    static let pad: KernelBuilder = { a in
        let modeName = try a.string("mode", "constant")
        guard let mode = PadMode(rawValue: modeName) else { throw a.unsupported("with mode '\(modeName)'") }
        let fromInputs = a.opset >= 11
        let attributePads = fromInputs ? nil : try a.ints(a.opset < 2 ? "paddings" : "pads")
        if !fromInputs && attributePads == nil { throw a.invalid("attribute '\(a.opset < 2 ? "paddings" : "pads")' is missing") }
        let attributeValue = try a.float("value", 0)
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            guard let pads = try attributePads ?? integerList(inputs, 1, "pads") else {
                throw OpError.invalid(op: inputs.op, problem: "input 1 (pads) is missing")
            }
            let axes = try distinctAxes(fromInputs ? try integerList(inputs, 3, "axes") ?? Array(x.shape.indices) : Array(x.shape.indices),
                                        rank: x.rank, op: inputs.op)
            guard pads.count == 2 * axes.count else {
                throw OpError.invalid(op: inputs.op, problem: "pads \(pads) do not hold 2 values for each of the \(axes.count) axes")
            }
            var begin = Array(repeating: 0, count: x.rank), end = begin
            for (k, axis) in axes.enumerated() {
                begin[axis] = pads[k]
                end[axis] = pads[axes.count + k]
            }
            var shape = x.shape
            var coordinates = [[Int]]()
            for axis in x.shape.indices {
                let d = x.shape[axis]
                let (n, overflow) = d.addingReportingOverflow(begin[axis])
                let (size, overflow2) = n.addingReportingOverflow(end[axis])
                guard !overflow, !overflow2, size >= 0 else {
                    throw OpError.invalid(op: inputs.op, problem: "pads \(pads) cut more than dimension \(d) of axis \(axis)")
                }
                shape[axis] = size
                coordinates.append([])
            }
            _ = try Shapes.count(shape, op: inputs.op)
            for axis in x.shape.indices {
                // Negative pads crop first; the rest pads the cropped window.
                let cropBegin = max(0, -begin[axis]), kept = x.shape[axis] - cropBegin - max(0, -end[axis])
                let padBegin = max(0, begin[axis])
                if mode != .constant && kept <= 0 && shape[axis] > 0 {
                    throw OpError.invalid(op: inputs.op, problem: "cannot pad an empty axis \(axis) in mode '\(mode.rawValue)'")
                }
                coordinates[axis] = (0..<shape[axis]).map { c in
                    let source = padSource(c - padBegin, dim: kept, mode: mode)
                    return source < 0 ? -1 : source + cropBegin
                }
            }
            let indices = Shapes.axisWiseIndexMap(shape, sourceShape: x.shape, coordinates: coordinates)
            if fromInputs, let value = inputs.optional(2), value.count > 0 {
                guard value.count == 1, value.dtype == x.dtype else {
                    throw OpError.invalid(op: inputs.op, problem: "constant_value of type \(value.dtype) and shape \(value.shape) (one \(x.dtype) value)")
                }
                return [x.picking(indices, shape: shape, fillElement: value)]
            }
            return [x.picking(indices, shape: shape, fill: fromInputs ? 0 : attributeValue)]
        }
    }

    /// The input coordinate read at (unpadded) coordinate `c` of an axis of `dim` elements: -1 (the
    /// constant) outside in `constant` mode; mirrored, clamped or wrapped otherwise.
    static func padSource(_ c: Int, dim: Int, mode: PadMode) -> Int {
        if c >= 0 && c < dim { return c }
        switch mode {
        case .constant: return -1
        case .edge: return c < 0 ? 0 : dim - 1
        case .wrap: return ((c % dim) + dim) % dim
        case .reflect:
            guard dim > 1 else { return 0 }
            let period = 2 * (dim - 1)
            let m = ((c % period) + period) % period
            return m < dim ? m : period - m
        }
    }
}
