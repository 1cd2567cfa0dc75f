import BNConvCore
import BNConvModel
import BNConvOps

/// The op-library ops whose result is a fact about their input's shape and not its elements:
/// ONNX `Shape` and `Size`, TensorFlow's `Shape`, `Size` and `Rank`. Planning evaluates them from
/// a shape alone (``ConstantPlanner``), as the op library would on a tensor of that shape
/// (`ShapeOps`, `TensorFlowOps`; ``ShapeQueryTests`` holds the two together).
enum ShapeQuery {
    /// The op types answered from the shape.
    static let types: Set<String> = ["Shape", "Size", "TF.Shape", "TF.Size", "TF.Rank"]

    /// What `op` (one of ``types``) gives for a value of `shape`; nil when its attributes are ones
    /// the op library would refuse.
    static func result(_ op: TensorOp, shape: [Int]) -> HostTensor? {
        let attributes = OpAttributes(op)
        let rank = shape.count
        switch op.type {
        case "Shape":
            // Opset 15's start and end, clamped to the rank.
            guard let start = try? attributes.int("start", 0), let end = try? attributes.int("end") ?? rank else { return nil }
            func clamped(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
            let s = clamped(start), e = clamped(end)
            let dims = s < e ? Array(shape[s..<e]) : []
            return HostTensor(shape: [dims.count], integers: dims.map { Int64($0) })
        case "Size":
            guard let count = ElementCount.of(shape, atMost: Int.max) else { return nil }
            return HostTensor(shape: [], integers: [Int64(count)])
        case "TF.Shape", "TF.Size":
            // `out_type` carries a DType raw value, int32 by default.
            let dtype: DType
            if attributes.has("out_type") {
                guard let raw = try? attributes.string("out_type", ""), let named = DType(rawValue: raw),
                      named == .int32 || named == .int64 else { return nil }
                dtype = named
            } else {
                dtype = .int32
            }
            if op.type == "TF.Shape" {
                return HostTensor(dtype: dtype, shape: [rank], storage: .int(shape.map { Int64($0) }))
            }
            guard let count = ElementCount.of(shape, atMost: Int.max) else { return nil }
            return HostTensor(dtype: dtype, shape: [], storage: .int([Int64(count)]))
        case "TF.Rank":
            return HostTensor(dtype: .int32, shape: [], storage: .int([Int64(rank)]))
        default:
            return nil
        }
    }
}
