/// The layout of a model's spatial inputs, for readers whose input declarations carry none (a
/// Keras InputLayer, a TensorFlow Placeholder): a file written channels-first (by ``ConvertLayout``
/// or by hand) says so only through the ops that read the input. Following the input through ops
/// that keep a tensor's layout (activations, BN, Rescaling, Normalization, merges, identities) to
/// the first ops with a layout attribute, the input is channels-first when every one of them is (a
/// transpose from channels-first to channels-last counts as a channels-first reader).
enum InputLayout {
    /// `values` with each spatial input that only channels-first layers read marked channels-first.
    static func marked(_ values: [String: ValueInfo], inputs: [String], nodes: [Node]) -> [String: ValueInfo] {
        var values = values
        var consumers: [String: [Node]] = [:]
        for node in nodes { for v in Set(node.inputs) { consumers[v, default: []].append(node) } }
        for input in inputs where (values[input]?.shape?.count ?? 0) >= 3 {
            var layouts = Set<DataLayout>()
            var pending = [input], seen = Set<String>()
            while let v = pending.popLast() {
                guard seen.insert(v).inserted else { continue }
                for node in consumers[v] ?? [] {
                    switch node.op {
                    case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): layouts.insert(c.layout)
                    case .pool(let p): layouts.insert(p.layout)
                    case .globalPool(let g): layouts.insert(g.layout)
                    case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): layouts.insert(l)
                    case .activation, .identity, .batchNorm, .rescaling, .normalization, .elementwise, .concat:
                        pending += node.outputs
                    case .permute(let dims) where dims == LayoutPermutation.permuteDims(rank: dims.count + 1, from: .channelsFirst, to: .channelsLast):
                        layouts.insert(.channelsFirst)   // a transpose back to channels-last (ConvertLayout writes these)
                    default:
                        layouts.insert(.channelsLast)   // reads axes by position: keep Keras's default
                    }
                }
            }
            if layouts == [.channelsFirst] { values[input]?.layout = .channelsFirst }
        }
        return values
    }
}
