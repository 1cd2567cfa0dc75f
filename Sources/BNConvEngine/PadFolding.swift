import BNConvCore
import BNConvModel
import BNConvInterop

/// Zero padding the executor folds into the convolution or max pooling that reads it, when nobody
/// observes the padded value: the consumer runs on the unpadded input with the padding added to
/// its own (explicit) padding, and the padded copy is never made. An ONNX export of Keras's
/// `ZeroPadding2D -> Conv2D/MaxPooling2D` (ResNet's stem) gives exactly this pair.
///
/// A convolution (or depthwise convolution) with VALID or explicit padding takes any zero
/// padding: its own padded taps read zeros too. A max pooling ignores its padded cells, which is
/// the same as reading zeros only when every real value is at least 0 and no window lies wholly in
/// the padding: so it is folded only after an activation whose values are never negative (ReLU,
/// ReLU6, sigmoid, ...) and when the combined padding on each side is smaller than the window.
/// SAME or causal padding (worked out from the padded size), an average pooling (whose count
/// would change), a padded value read by anything else or a model output are left as they are.
/// The model is not changed: the executor runs a folded copy of the consumer node.
struct PadFolding {
    /// One consumer running on the unpadded input.
    struct Fold {
        /// The padding step's index.
        let pad: Int
        /// The consumer with the pad's input as its input and the padding added.
        let node: Node
        /// Its kernel.
        let kernel: EngineKernel
    }

    /// Folds by consumer step index.
    private(set) var folds: [Int: Fold] = [:]
    /// Padding steps not run (their consumer pads instead).
    private(set) var skipped: Set<Int> = []

    /// Plans folds over `nodes` (one per executed step) of `model`; `make` builds a folded
    /// consumer's kernel (a consumer it cannot build stays unfolded).
    init(nodes: [Node], model: Model, make: (Node) throws -> EngineKernel) {
        var readers: [String: [Int]] = [:]
        var producer: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for v in node.distinctInputs { readers[v, default: []].append(i) }
            for v in node.outputs { producer[v] = i }
        }
        let outputs = Set(model.outputs)
        for (p, pad) in nodes.enumerated() {
            guard case let .pad(padding, layout) = pad.op, pad.inputs.count == 1, pad.outputs.count == 1,
                  !outputs.contains(pad.outputs[0]), let only = readers[pad.outputs[0]], only.count == 1,
                  let c = only.first, c > p, nodes[c].inputs == [pad.outputs[0]] else { continue }
            let nonNegative = producer[pad.inputs[0]].map { Self.isNonNegative(nodes[$0].op) } ?? false
            guard let op = Self.folded(nodes[c].op, padding: padding, layout: layout, nonNegativeInput: nonNegative) else {
                continue
            }
            var node = nodes[c]
            node.op = op
            node.inputs = pad.inputs
            guard let kernel = try? make(node) else { continue }
            folds[c] = Fold(pad: p, node: node, kernel: kernel)
            skipped.insert(p)
        }
    }

    /// `consumer` with zero padding `padding` (per spatial axis, in `layout`) taken into its own,
    /// or `nil` when that would not compute the same values.
    static func folded(_ consumer: Op, padding: [Pair], layout: DataLayout, nonNegativeInput: Bool) -> Op? {
        func combined(_ own: Padding, rank: Int) -> [Pair]? {
            guard padding.count == rank, padding.allSatisfy({ $0.before >= 0 && $0.after >= 0 }) else { return nil }
            switch own {
            case .valid: return padding
            case .explicit(let pairs) where pairs.count == rank:
                return zip(padding, pairs).map { Pair($0.before + $1.before, $0.after + $1.after) }
            default: return nil
            }
        }
        switch consumer {
        case .conv(var c):
            guard c.layout == layout, let pairs = combined(c.padding, rank: c.rank) else { return nil }
            c.padding = .explicit(pairs)
            return .conv(c)
        case .depthwiseConv(var c):
            guard c.layout == layout, let pairs = combined(c.padding, rank: c.rank) else { return nil }
            c.padding = .explicit(pairs)
            return .depthwiseConv(c)
        case .pool(var p):
            guard p.kind == .max, nonNegativeInput, p.layout == layout,
                  let pairs = combined(p.padding, rank: p.poolSize.count),
                  zip(pairs, p.poolSize).allSatisfy({ $0.before < $1 && $0.after < $1 }) else { return nil }
            p.padding = .explicit(pairs)
            return .pool(p)
        default:
            return nil
        }
    }

    /// Whether every value `op` writes is at least 0 (NaN aside): a ReLU without negative slope,
    /// ReLU6, sigmoid and the like, as an activation node or a layer's own activation.
    static func isNonNegative(_ op: Op) -> Bool {
        let activation: Activation
        switch op {
        case .activation(let a): activation = a
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c): activation = c.activation
        case .dense(let d): activation = d.activation
        default: return false
        }
        switch activation {
        case let .relu(maxValue, threshold, negativeSlope):
            return negativeSlope == 0 && threshold >= 0 && (maxValue ?? 0) >= 0
        case .relu6, .sigmoid, .hardSigmoid, .softplus, .exponential: return true
        default: return false
        }
    }
}
