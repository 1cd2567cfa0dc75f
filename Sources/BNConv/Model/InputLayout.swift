/// The layout of a model's spatial inputs, for readers whose input declarations carry none (a
/// Keras InputLayer, a TensorFlow Placeholder): a file written channels-first (by ``ConvertLayout``
/// or by hand) says so only through the ops that read the input. Following the input through ops
/// that keep a tensor's layout (activations, BN, Rescaling, Normalization, merges, identities) to
/// the first ops with a layout attribute, the input is channels-first when every one of them is.
///
/// A transpose between the two layouts (``ConvertLayout`` writes one after each input with
/// `--keep-io-layout`) is looked through: the layout its readers want, mapped back through the
/// transpose, is the layout the input has. The transpose alone cannot tell: for a rank-3 tensor
/// the channels-last -> channels-first permutation and its inverse are the same `[2, 1]`. A
/// transpose whose readers decide nothing counts as a channels-first reader when its dims turn
/// channels-first into channels-last (rank >= 4, where the two directions differ).
///
/// ``BoundaryLayouts`` (Passes) answers the same question for inputs a reader left undeclared,
/// after reading, from the first reader with a layout attribute only; this type is the one the
/// readers apply, and is the stricter of the two (every reader must agree).
enum InputLayout {
    /// `values` with each spatial input that only channels-first layers read marked channels-first.
    static func marked(_ values: [String: ValueInfo], inputs: [String], nodes: [Node]) -> [String: ValueInfo] {
        var values = values
        var consumers: [String: [Node]] = [:]
        for node in nodes { for v in Set(node.inputs) { consumers[v, default: []].append(node) } }
        for input in inputs where (values[input]?.shape?.count ?? 0) >= 3 {
            var seen = Set<String>()
            if readerLayouts(of: input, consumers: consumers, seen: &seen) == [.channelsFirst] {
                values[input]?.layout = .channelsFirst
            }
        }
        return values
    }

    /// The layouts the ops reading `value` (through layout-keeping ops) work in.
    private static func readerLayouts(of value: String, consumers: [String: [Node]], seen: inout Set<String>) -> Set<DataLayout> {
        var layouts = Set<DataLayout>()
        var pending = [value]
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
                case .permute(let dims) where isLayoutSwap(dims):
                    let rank = dims.count + 1
                    let beyond = node.outputs.first.map { readerLayouts(of: $0, consumers: consumers, seen: &seen) } ?? []
                    if beyond.count == 1, let after = beyond.first {
                        // The transpose delivers `after`; it reads the other layout, if its dims say so.
                        let before: DataLayout = after == .channelsFirst ? .channelsLast : .channelsFirst
                        layouts.insert(dims == LayoutPermutation.permuteDims(rank: rank, from: before, to: after) ? before : .channelsLast)
                    } else if beyond.isEmpty, rank >= 4,
                              dims == LayoutPermutation.permuteDims(rank: rank, from: .channelsFirst, to: .channelsLast) {
                        layouts.insert(.channelsFirst)
                    } else {
                        layouts.insert(.channelsLast)
                    }
                default:
                    layouts.insert(.channelsLast)   // reads axes by position: keep Keras's default
                }
            }
        }
        return layouts
    }

    /// Whether Permute `dims` (1-based, batch excluded) swaps channels-last and channels-first.
    private static func isLayoutSwap(_ dims: [Int]) -> Bool {
        let rank = dims.count + 1
        guard rank >= 3 else { return false }
        return dims == LayoutPermutation.permuteDims(rank: rank, from: .channelsFirst, to: .channelsLast)
            || dims == LayoutPermutation.permuteDims(rank: rank, from: .channelsLast, to: .channelsFirst)
    }
}
