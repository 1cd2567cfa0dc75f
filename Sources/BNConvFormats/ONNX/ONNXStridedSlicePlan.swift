import BNConvModel

/// A TensorFlow `StridedSlice` (the op library's `TF.StridedSlice`) as ONNX sees it: one `Slice`
/// over the input's axes, then a `Squeeze` of the axes the shrink mask drops, then an `Unsqueeze`
/// of the axes the new-axis mask inserts.
///
/// TensorFlow's rules (tensorflow/core/util/strided_slice_op.cc, as the op library's
/// `StridedSliceMasks` runs them): the spec's entry `i` names the next input axis unless it is the
/// ellipsis (every axis the spec does not name) or a new axis; a begin or end mask bit takes the
/// axis from its start or to its end in the stride's direction; a shrink bit takes the one element
/// at `begin[i]` and drops the axis; axes after the spec are kept whole. Begin and end are clamped
/// like ONNX Slice clamps its starts and ends, except that TensorFlow clamps a begin below `-size`
/// to -1 with a negative stride (an empty slice) where ONNX clamps it to 0: such a begin is
/// resolved with the axis size, and refused when that size is unknown.
struct ONNXStridedSlicePlan {
    /// The slice of one input axis.
    struct AxisSlice: Equatable {
        /// The input axis.
        var axis: Int
        /// ONNX Slice's start, end (exclusive) and step along it.
        var start: Int
        var end: Int
        var step: Int
    }

    /// The axes the `Slice` restricts (axes taken whole are left out).
    private(set) var slices: [AxisSlice] = []
    /// Input axes the shrink mask drops (after the slice, which keeps every axis).
    private(set) var shrunk: [Int] = []
    /// Positions of the inserted axes in the output.
    private(set) var inserted: [Int] = []
    /// The output shape, when the input's rank is known (`nil` entries: unknown sizes).
    private(set) var outputShape: [Int?]?

    /// The plan of `op` (its masks) for the given begin, end and strides on an input of shape
    /// `input` (`nil`: unknown rank); throws ``ONNXExportRefusal`` for what ONNX cannot express.
    init(op: TensorOp, begin b: [Int], end e: [Int], strides s: [Int], input: [Int?]?) throws {
        func mask(_ name: String) -> Int { if case .int(let v)? = op.attributes[name] { return v } else { return 0 } }
        let (beginMask, endMask, ellipsisMask) = (mask("begin_mask"), mask("end_mask"), mask("ellipsis_mask"))
        let (newAxisMask, shrinkMask) = (mask("new_axis_mask"), mask("shrink_axis_mask"))
        let m = b.count
        guard e.count == m, s.count == m, m <= 64 else {
            throw ONNXExportRefusal("begin, end and strides must have one length of at most 64 (\(b.count), \(e.count), \(s.count))")
        }
        func bit(_ mask: Int, _ i: Int) -> Bool { mask & (1 << i) != 0 }
        guard (0..<m).filter({ bit(ellipsisMask, $0) }).count <= 1 else { throw ONNXExportRefusal("its spec has more than one ellipsis") }
        let named = (0..<m).filter { !bit(ellipsisMask, $0) && !bit(newAxisMask, $0) }.count
        let rank = input?.count
        var shape: [Int?] = []
        var axis = 0
        for i in 0..<m {
            if bit(ellipsisMask, i) {
                guard let rank, let input else {
                    throw ONNXExportRefusal("its ellipsis stands for axes of an input whose rank is unknown")
                }
                let covered = rank - named
                guard covered >= 0 else { throw ONNXExportRefusal("its spec names more axes than the input's \(rank)") }
                shape += input[axis..<(axis + covered)]
                axis += covered
                continue
            }
            if bit(newAxisMask, i) {
                inserted.append(shape.count)
                shape.append(1)
                continue
            }
            if let rank, axis >= rank { throw ONNXExportRefusal("its spec names more axes than the input's \(rank)") }
            let size = input.flatMap { axis < $0.count ? $0[axis] : nil }
            let stride = s[i]
            guard stride != 0 else { throw ONNXExportRefusal("a stride of 0") }
            if bit(shrinkMask, i) {
                if let size, !(b[i] >= -size && b[i] < size) {
                    throw ONNXExportRefusal("index \(b[i]) is outside axis \(axis) of size \(size)")
                }
                slices.append(AxisSlice(axis: axis, start: b[i], end: b[i] == -1 ? Int.max : b[i] + 1, step: 1))
                shrunk.append(axis)
                axis += 1
                continue
            }
            var start = bit(beginMask, i) ? (stride > 0 ? 0 : Int.max) : b[i]
            var end = bit(endMask, i) ? (stride > 0 ? Int.max : Int.min) : e[i]
            if stride < 0 && !bit(beginMask, i) && b[i] < -1 {
                guard let size else {
                    throw ONNXExportRefusal("begin \(b[i]) with stride \(stride) on axis \(axis), whose size is unknown (TensorFlow and ONNX clamp it differently below -size)")
                }
                if b[i] + size < 0 { (start, end) = (0, 0) }
            }
            if !(start == 0 && end == Int.max && stride == 1) {
                slices.append(AxisSlice(axis: axis, start: start, end: end, step: stride))
            }
            shape.append(size.map { Self.length(size: $0, start: start, end: end, stride: stride) })
            axis += 1
        }
        if let input, let rank {
            shape += input[min(axis, rank)...]
            outputShape = shape
        }
    }

    /// The length ONNX Slice (and TensorFlow, for the starts this plan gives) takes from an axis of `size`.
    static func length(size n: Int, start: Int, end: Int, stride: Int) -> Int {
        func resolve(_ v: Int) -> Int { v < 0 ? v + n : v }
        if stride > 0 {
            let lo = min(max(resolve(start), 0), n), hi = min(max(resolve(end), 0), n)
            return max(0, (hi - lo + stride - 1) / stride)
        }
        let lo = min(max(resolve(start), 0), n - 1), hi = min(max(resolve(end), -1), n - 1)
        return max(0, (lo - hi + (-stride) - 1) / (-stride))
    }
}
