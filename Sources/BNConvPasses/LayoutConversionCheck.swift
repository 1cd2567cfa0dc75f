import BNConvCore
import BNConvModel

/// Proves, without running either model, that a layout-converted model computes what its source
/// computes, up to transposes of its values; the first thing it cannot prove is a
/// ``LayoutConversionError`` naming the node.
///
/// It walks the converted model and derives, for every value, the original value it carries and
/// the transpose (numpy order) taking the original tensor to it, from the ops alone (not from the
/// pass's bookkeeping): a created node must be a transpose; a node of the original must read the
/// values its original read, and
/// - a conv, pool, global pool, pad, crop or upsampling whose layout changed from `a` to `b` (and
///   nothing else) must read its data input transposed from `a` to `b`, and writes likewise; its
///   input channel count in `b` must be its kernel's in-channels x groups, and the original's;
/// - a BatchNorm, Softmax, Normalization or Concat must have its axis where the transpose of its
///   input put the original's; activations (softmax aside), identities and scalar rescalings pass
///   their input's transpose on; element-wise ops (and op-library ops that read no axis) need one
///   transpose on every operand (broadcast scalars aside);
/// - a Flatten of a transposed tensor reorders its vector, which only a Dense whose kernel rows
///   were gathered by that order may read; a Reshape of the original's tensor to a shape with one
///   axis beside the batch that is not 1 may move that axis;
/// - every other op (Reshape, Permute, Dense, op-library ops that read axes, opaque ops) must be
///   unchanged and read the original's tensors.
/// The model outputs must come out transposed as the converted model declares them
/// (``LayoutBoundary``), and shape inference on the converted model must give every value the
/// original's shape transposed, where both are known.
///
/// The original may itself hold transposes a pass created (nodes with no ``Node/readIndex``):
/// they are looked through, so a converted model can be checked against the file it was written
/// to and read back (which holds them as read nodes).
package struct LayoutConversionCheck {
    /// The model before the conversion.
    package var original: Model
    /// The converted model.
    package var converted: Model
    /// How the converted model's inputs and outputs are transposed from the original's; `nil`:
    /// as the two models' declared layouts say (``LayoutBoundary/init(source:converted:)``).
    package var boundary: LayoutBoundary?

    /// A check of `converted` against `original`, whose boundary is `boundary` (or what the
    /// models declare).
    package init(original: Model, converted: Model, boundary: LayoutBoundary? = nil) {
        self.original = original
        self.converted = converted
        self.boundary = boundary
    }

    /// Throws ``LayoutConversionError`` at the first node the check cannot prove right.
    package func verify() throws {
        var walk = Walk(original: original, converted: converted)
        try walk.run(boundary: boundary ?? LayoutBoundary(source: original, converted: converted))
    }

    private struct Walk {
        let original: Model
        let converted: Model
        let before: [String: [Int?]]
        let after: [String: [Int?]]
        /// Ranks the ops give values whose sizes shape inference does not know.
        let beforeRanks: [String: Int], afterRanks: [String: Int]
        /// The original value each converted value carries.
        var origins: [String: String] = [:]
        /// The transpose from the original tensor, for values that are not the original's.
        var moves: [String: [Int]] = [:]
        /// Flattened vectors whose elements are reordered: `rows[new] = old`.
        var rows: [String: [Int]] = [:]
        /// The node writing each converted value.
        var writers: [String: String] = [:]
        /// Original values written by a created transpose: the value it transposes (looked through
        /// to one that is not) and the transpose from that value's tensor.
        let lookThrough: [String: (value: String, move: [Int])]
        /// The created transposes of the original, by name.
        let createdInOriginal: Set<String>

        init(original: Model, converted: Model) {
            self.original = original
            self.converted = converted
            self.before = ShapeInference.shapes(of: original)
            self.after = ShapeInference.shapes(of: converted)
            self.beforeRanks = LayoutPropagation.ranks(of: original)
            self.afterRanks = LayoutPropagation.ranks(of: converted)
            var through: [String: (value: String, move: [Int])] = [:]
            var created = Set<String>()
            for node in original.nodes where node.readIndex == nil {
                guard case .permute(let dims) = node.op, node.inputs.count == 1, node.outputs.count == 1 else { continue }
                let input = through[node.inputs[0]] ?? (node.inputs[0], Array(0...dims.count))
                guard input.move.count == dims.count + 1 else { continue }
                through[node.outputs[0]] = (input.value, LayoutPermutation.composed(input.move, [0] + dims))
                created.insert(node.name)
            }
            self.lookThrough = through
            self.createdInOriginal = created
        }

        /// The original value `v` stands for (through created transposes).
        func root(_ v: String) -> String { lookThrough[v]?.value ?? v }

        /// How converted value `v` is transposed from the original's value `u` (which it carries).
        func relative(_ v: String, to u: String) -> [Int]? {
            guard let through = lookThrough[u] else { return moves[v] }
            let have = moves[v] ?? Array(0..<through.move.count)
            let move = LayoutPermutation.bridge(from: through.move, to: have)
            return LayoutPermutation.isIdentity(move) ? nil : move
        }

        func fail(_ node: String, _ problem: String) -> LayoutConversionError { LayoutConversionError(node: node, problem: problem) }
        func rank(_ v: String) -> Int? {
            moves[v]?.count ?? after[v]?.count ?? afterRanks[v] ?? origins[v].flatMap { before[$0]?.count ?? beforeRanks[$0] }
        }
        func identity(_ r: Int) -> [Int] { Array(0..<r) }
        func text(_ p: [Int]?) -> String { p.map { "[\($0.map(String.init).joined(separator: ", "))]" } ?? "nothing" }

        mutating func run(boundary: LayoutBoundary) throws {
            guard converted.inputs == original.inputs, boundary.inputs.count == converted.inputs.count,
                  boundary.outputs.count == converted.outputs.count else {
                throw fail(converted.inputs.first ?? "model inputs", "the converted model's inputs are not the original's")
            }
            for (k, v) in converted.inputs.enumerated() {
                origins[v] = v
                if let p = boundary.inputs[k] { moves[v] = p }
            }
            for node in converted.nodes {
                for o in node.outputs { writers[o] = node.name }
                if case .input = node.op {
                    for o in node.outputs where origins[o] == nil { origins[o] = o }
                    continue
                }
                guard let source = original.node(named: node.name), !createdInOriginal.contains(node.name) else {
                    try created(node)
                    continue
                }
                guard source.inputs.count == node.inputs.count, source.outputs == node.outputs else {
                    throw fail(node.name, "its inputs or outputs are not the original node's")
                }
                for (k, v) in node.inputs.enumerated() where origins[v] != root(source.inputs[k]) {
                    throw fail(node.name, "its input \(k) '\(v)' does not carry the original's '\(source.inputs[k])'")
                }
                // The rules read each input's transpose from the original node's own input.
                let saved = node.inputs.map { moves[$0] }
                for (k, v) in node.inputs.enumerated() { moves[v] = relative(v, to: source.inputs[k]) }
                let move = try rule(source, node)
                for (v, m) in zip(node.inputs, saved) { moves[v] = m }
                for o in node.outputs {
                    origins[o] = o
                    if let move, !LayoutPermutation.isIdentity(move) { moves[o] = move }
                }
            }
            for (k, o) in converted.outputs.enumerated() {
                guard k < original.outputs.count, origins[o] == root(original.outputs[k]), rows[o] == nil else {
                    throw fail(o, "model output \(k) does not carry the original's output")
                }
                let declared = boundary.outputs[k].flatMap { LayoutPermutation.isIdentity($0) ? nil : $0 }
                let move = relative(o, to: original.outputs[k])
                guard move == declared else {
                    throw fail(o, "the model output comes out transposed by \(text(move)) from the original's, but the converted model declares \(text(declared))")
                }
            }
            try checkShapes()
        }

        /// A node the conversion created: a transpose of one value.
        mutating func created(_ node: Node) throws {
            guard case .permute(let dims) = node.op, node.inputs.count == 1, node.outputs.count == 1,
                  let origin = origins[node.inputs[0]], rows[node.inputs[0]] == nil else {
                throw fail(node.name, "the conversion created it, and it is not a transpose of one tensor")
            }
            let r = dims.count + 1
            if let known = rank(node.inputs[0]), known != r {
                throw fail(node.name, "it transposes '\(node.inputs[0])' as a rank-\(r) tensor, but that has rank \(known)")
            }
            let move = LayoutPermutation.composed(moves[node.inputs[0]] ?? identity(r), [0] + dims)
            origins[node.outputs[0]] = origin
            if !LayoutPermutation.isIdentity(move) { moves[node.outputs[0]] = move }
        }

        /// The transpose `node`'s outputs carry, given what its inputs carry; throws when `node`
        /// (converted from `source`) does not compute the original's values so transposed.
        mutating func rule(_ source: Node, _ node: Node) throws -> [Int]? {
            let x = node.inputs.first
            let q = x.flatMap { moves[$0] }
            let (sourceOp, nodeOp) = (Self.canonical(source.op), Self.canonical(node.op))
            if sourceOp == nodeOp && node.inputs.allSatisfy({ moves[$0] == nil && rows[$0] == nil }) { return nil }
            switch (sourceOp, nodeOp) {
            case (.conv(let a), .conv(let b)), (.depthwiseConv(let a), .depthwiseConv(let b)),
                 (.separableConv(let a), .separableConv(let b)), (.convTranspose(let a), .convTranspose(let b)):
                var same = a
                same.layout = b.layout
                guard same == b else { break }
                if a.layout != b.layout && a.activation == .softmax {
                    throw fail(node.name, "its fused softmax works on the last axis, which is another axis in \(b.layout.rawValue)")
                }
                let move = try window(source, node, rank: a.rank + 2, from: a.layout, to: b.layout)
                try channels(source, node, a, b)
                return move
            case (.pool(let a), .pool(let b)):
                var same = a
                same.layout = b.layout
                guard same == b else { break }
                return try window(source, node, rank: a.poolSize.count + 2, from: a.layout, to: b.layout)
            case (.globalPool(let a), .globalPool(let b)):
                guard a.kind == b.kind, a.keepDims == b.keepDims else { break }
                guard let r = x.flatMap(rank) else { throw fail(node.name, "it pools a tensor of unknown rank") }
                let move = try window(source, node, rank: r, from: a.layout, to: b.layout)
                return a.keepDims ? move : nil
            case (.pad(let p, let a), .pad(let p2, let b)) where p == p2:
                return try window(source, node, rank: p.count + 2, from: a, to: b)
            case (.crop(let c, let a), .crop(let c2, let b)) where c == c2:
                return try window(source, node, rank: c.count + 2, from: a, to: b)
            case (.upsample(let s, let i, let a), .upsample(let s2, let i2, let b)) where s == s2 && i == i2:
                return try window(source, node, rank: s.count + 2, from: a, to: b)
            case (.batchNorm(let a), .batchNorm(let b)):
                var same = a
                same.axis = b.axis
                guard same == b, let x, let r = rank(x) else { break }
                try unmoved(node, from: 1)
                let move = q ?? identity(r)
                let now = LayoutPermutation.position(of: Op.resolveAxis(a.axis, rank: r), in: move)
                guard now == Op.resolveAxis(b.axis, rank: r) else {
                    throw fail(node.name, "it normalizes axis \(b.axis), but its input holds the channels the original normalized (axis \(a.axis)) at axis \(now.map(String.init) ?? "?")")
                }
                return q
            case (.activation(let a), .activation(let b)) where a == b:
                if a == .softmax { throw fail(node.name, "its softmax works on the last axis, and its input is transposed") }
                return q
            case (.identity, .identity):
                return q
            case (.rescaling(let s, let o), .rescaling(let s2, let o2)) where s == s2 && o == o2:
                if s.count > 1 || o.count > 1 { throw fail(node.name, "it scales per channel on the last axis, and its input is transposed") }
                return q
            case (.softmax(let a), .softmax(let b)):
                guard let q else { break }
                try axis(node, a, b, q)
                return q
            case (.normalization(let a), .normalization(let b)) where a.count == b.count:
                guard let q else { break }
                for (i, j) in zip(a, b) { try axis(node, i, j, q) }
                return q
            case (.elementwise(let a), .elementwise(let b)) where a == b:
                return try merged(node, scalars: true)
            case (.concat(let a), .concat(let b)):
                guard let move = try merged(node, scalars: false) else { break }
                try axis(node, a, b, move)
                return move
            case (.tensor(let a), .tensor(let b)) where a == b && TensorOpShapes.isLayoutFree(a, node: node):
                return try merged(node, scalars: true)
            case (.flatten, .flatten):
                guard let q, let dims = before[source.inputs[0]], dims.count == q.count,
                      dims.dropFirst().allSatisfy({ $0 != nil }) else { break }
                rows[node.outputs[0]] = LayoutPermutation.flattenRowPermutation(dims: dims.dropFirst().map { $0! }, transposedBy: q)
                return nil
            case (.dense(let a), .dense(let b)) where a == b:
                guard let x, let order = rows[x] else { break }
                guard let was = source.weight(.kernel), let now = node.weight(.kernel), was.layout == now.layout else { break }
                let gathered = was.layout == .io
                    ? try LayoutPermutation.gatherRows(was.tensor, order)
                    : try LayoutPermutation.gatherRows(was.tensor.transposed([1, 0]), order).transposed([1, 0])
                guard gathered == now.tensor else {
                    throw fail(node.name, "it reads a flattened tensor whose elements were reordered, and its kernel rows are not reordered the same way")
                }
                return nil
            case (.reshape(let a), .reshape(let b)) where a != b:
                try unmoved(node, from: 0)
                let full = [0] + a
                let r = full.count
                guard (3...5).contains(r), (1..<r).filter({ full[$0] != 1 }).count <= 1 else { break }
                for (from, to) in [(DataLayout.channelsLast, DataLayout.channelsFirst), (.channelsFirst, .channelsLast)] {
                    let move = LayoutPermutation.transposition(rank: r, from: from, to: to)
                    if Array(LayoutPermutation.permuted(full, by: move).dropFirst()) == b { return move }
                }
            default:
                break
            }
            guard sourceOp == nodeOp else {
                throw fail(node.name, "the conversion changed its \(source.opName) op in a way the check cannot prove")
            }
            try unmoved(node, from: 0)
            return nil
        }

        /// One form for ops that compute the same: an op-library Add / Sub / Mul / Max / Min of two
        /// values is the typed element-wise op (a reader picks one or the other by whether an
        /// operand is a constant, which a transpose inserted before it changes).
        static func canonical(_ op: Op) -> Op {
            guard case .tensor(let t) = op, t.attributes.isEmpty, t.arguments == [.value(0), .value(1)] else { return op }
            let kinds: [String: ElementwiseKind] = ["Add": .add, "Sub": .subtract, "Mul": .multiply, "Max": .maximum, "Min": .minimum]
            return kinds[t.type].map { .elementwise($0) } ?? op
        }

        /// Inputs from `k` on must be the original's tensors.
        func unmoved(_ node: Node, from k: Int) throws {
            for v in node.inputs.dropFirst(k) where moves[v] != nil || rows[v] != nil {
                throw fail(node.name, "it reads axes by position, and reads '\(v)' transposed by \(text(moves[v])) from the original's tensor")
            }
        }

        /// A layout op of rank `r` moved from `a` to `b`: its data input must be transposed so.
        func window(_ source: Node, _ node: Node, rank r: Int, from a: DataLayout, to b: DataLayout) throws -> [Int] {
            let want = LayoutPermutation.transposition(rank: r, from: a, to: b)
            let v = node.inputs[0]
            if let known = rank(v), known != r {
                throw fail(node.name, "it reads '\(v)' as a rank-\(r) tensor, but that has rank \(known)")
            }
            let have = moves[v] ?? identity(r)
            guard rows[v] == nil, have == want else {
                throw fail(node.name, "it reads \(b.rawValue), but its input '\(v)' is the original's tensor transposed by \(text(have)), not by \(text(want))")
            }
            try unmoved(node, from: 1)
            return want
        }

        /// Axis `a` of the original op must be where transpose `move` put it: axis `b`.
        func axis(_ node: Node, _ a: Int, _ b: Int, _ move: [Int]) throws {
            let r = move.count
            let now = LayoutPermutation.position(of: Op.resolveAxis(a, rank: r), in: move)
            guard now == Op.resolveAxis(b, rank: r) else {
                throw fail(node.name, "it works on axis \(b), but its input holds the original's axis \(a) at axis \(now.map(String.init) ?? "?")")
            }
        }

        /// One transpose on every operand (broadcast scalars aside, with `scalars`): returned.
        func merged(_ node: Node, scalars: Bool) throws -> [Int]? {
            guard let move = node.inputs.lazy.compactMap({ moves[$0] }).first else {
                try unmoved(node, from: 0)
                return nil
            }
            for v in node.inputs where moves[v] != move {
                let shape = after[v]
                let scalar = scalars && moves[v] == nil && rows[v] == nil && shape.map { $0.count <= move.count && $0.allSatisfy { $0 == 1 } } == true
                if !scalar {
                    throw fail(node.name, "it combines '\(v)' transposed by \(text(moves[v])) with operands transposed by \(text(move))")
                }
            }
            return move
        }

        /// The converted conv's input channels in its layout: its kernel's in-channels x groups,
        /// and the original's.
        func channels(_ source: Node, _ node: Node, _ a: Convolution, _ b: Convolution) throws {
            let r = b.rank + 2
            guard let s = after[node.inputs[0]], s.count == r, let c = s[b.layout.channelAxis(rank: r)] else { return }
            if let k = Self.kernelInputChannels(node, b), k != c {
                throw fail(node.name, "its input has \(c) channels in \(b.layout.rawValue), but its kernel reads \(k) (in-channels x \(b.groups) group\(b.groups == 1 ? "" : "s"))")
            }
            if let s0 = before[source.inputs[0]], s0.count == r, let c0 = s0[a.layout.channelAxis(rank: r)], c0 != c {
                throw fail(node.name, "its input has \(c) channels in \(b.layout.rawValue), the original's \(c0)")
            }
        }

        /// The input channels a convolution's kernel reads (times its groups), when its layout says.
        static func kernelInputChannels(_ node: Node, _ c: Convolution) -> Int? {
            let r = c.rank
            switch node.op {
            case .conv:
                guard let k = node.weight(.kernel), k.tensor.rank == r + 2 else { return nil }
                switch k.layout {
                case .hwio: return k.tensor.shape[r] * c.groups
                case .oihw: return k.tensor.shape[1] * c.groups
                default: return nil
                }
            case .depthwiseConv, .separableConv:
                guard let k = node.weights.first(where: { $0.layout == .hwcm }), k.tensor.rank == r + 2 else { return nil }
                return k.tensor.shape[r]
            case .convTranspose:
                guard let k = node.weight(.kernel), k.tensor.rank == r + 2 else { return nil }
                switch k.layout {
                case .hwoi: return k.tensor.shape[r + 1]
                case .iohw: return k.tensor.shape[0]
                default: return nil
                }
            default:
                return nil
            }
        }

        /// Shape inference on the converted model gives each value the original's shape transposed.
        func checkShapes() throws {
            for node in converted.nodes {
                for v in node.outputs {
                    guard let origin = origins[v], let b = before[origin], let a = after[v] else { continue }
                    let move = moves[v] ?? identity(b.count)
                    guard move.count == b.count, a.count == b.count else {
                        throw fail(writers[v] ?? v, "shape inference gives '\(v)' rank \(a.count), the original's \(b.count)")
                    }
                    let expected = LayoutPermutation.permuted(b, by: move)
                    for (i, (p, e)) in zip(a, expected).enumerated() {
                        if let p, let e, p != e {
                            throw fail(writers[v] ?? v, "shape inference gives '\(v)' \(p) along axis \(i), where the original's tensor transposed has \(e)")
                        }
                    }
                }
            }
        }
    }
}
