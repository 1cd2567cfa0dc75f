import BNConvCore
import BNConvModel

/// Switches a model's activations between channels-last (NHWC) and channels-first (NCHW).
///
/// Before: every spatial op reads and writes tensors in the layout its attributes name. After:
/// convolutions, pools, global pools, pads, crops and upsamplings read and write `target`-layout
/// tensors; kernels keep their layout (Keras keeps `hwio` whatever the data_format), the BN,
/// Concatenate, Softmax and Normalization axes move with the tensor they read, a Flatten -> Dense
/// permutation is folded into the Dense rows (no transpose), and declared shapes are permuted.
///
/// Every value carries the transpose (numpy order, batch first) that takes the original model's
/// tensor to the converted one: a layout op's output moves by the transposition of its own layout
/// into `target`; a layout-keeping op (activation, BN, merges, element-wise ops with scalar
/// constants) passes its input's on; every other op (Reshape, Permute, Dense on a spatial tensor,
/// per-channel Rescaling, op-library ops that read axes, opaque ops) gets its inputs transposed
/// back to the original and writes what the original wrote. Nothing is guessed from dimension
/// sizes: a layout op reading a value the pass knows nothing of reads it as the original did (in
/// the layout its own attributes name), so the pass transposes it from there; where it cannot
/// (a rank the op does not read), the conversion is refused (``LayoutConversionError``). Each
/// inserted transpose is reported. At the boundary the declared input and output shapes are
/// permuted (the user feeds `target`), or with `keepIOLayout` one transpose is inserted after
/// each spatial input and before each spatial output. The result is checked by
/// `LayoutConversionCheck` before it is returned.
public struct ConvertLayout {
    /// The layout to convert to.
    public var target: DataLayout
    /// Keep the model's inputs and outputs in their original layout, with transposes at the boundary.
    public var keepIOLayout: Bool

    /// The outcome of a conversion.
    public struct Result {
        /// The converted model.
        public var model: Model
        /// Transposes the pass inserted (node names), boundary ones included.
        public var insertedTransposes: [String]
        /// Dense nodes whose kernel rows were permuted to absorb a Flatten.
        public var permutedDenseRows: [String]
        /// Human-readable notes (what was permuted at the boundary, where transposes were needed).
        public var notes: [String]
    }

    /// Creates the pass.
    public init(target: DataLayout, keepIOLayout: Bool = false) {
        self.target = target
        self.keepIOLayout = keepIOLayout
    }

    /// Converts `model`; throws ``LayoutConversionError`` (naming the node) for a conversion it
    /// cannot prove right.
    public func apply(to model: Model) throws -> Result {
        var state = State(model: model, target: target)
        try state.run(keepIOLayout: keepIOLayout)
        try LayoutConversionCheck(original: model, converted: state.output).verify()
        return Result(model: state.output, insertedTransposes: state.inserted, permutedDenseRows: state.permutedDense, notes: state.notes)
    }

    /// The conversion's working state: how every value differs from the original's.
    private struct State {
        let model: Model
        let target: DataLayout
        let shapes: [String: [Int?]]
        /// Ranks the pass learnt beyond shape inference (from the ops that read or write a value).
        var ranks: [String: Int] = [:]
        /// Values that differ from the original's tensor: the transpose (numpy order, batch first)
        /// taking the original tensor to this one. Absent: the value is the original's.
        var moves: [String: [Int]] = [:]
        /// The layout of moved and created values, when known.
        var labels: [String: DataLayout] = [:]
        /// Flattened vectors whose elements are reordered: `rows[new] = old`.
        var rowMoves: [String: [Int]] = [:]
        /// Flatten nodes that feed only Dense kernels: their input's dims after the batch.
        var flattenDims: [String: [Int]] = [:]
        /// The original value each created value carries.
        var origins: [String: String] = [:]
        var transposes: [String: String] = [:]
        var nodes: [Node] = []
        var inserted: [String] = []
        var permutedDense: [String] = []
        var notes: [String] = []
        var names: NameAllocator
        var output: Model

        init(model: Model, target: DataLayout) {
            self.model = model
            self.target = target
            self.shapes = ShapeInference.shapes(of: model)
            self.ranks = LayoutPropagation.ranks(of: model)
            self.output = model
            var names = NameAllocator(taken: model.nodes.map(\.name))
            names.reserve(model.inputs)
            for n in model.nodes { names.reserve(n.outputs) }
            self.names = names
        }

        func rank(_ v: String) -> Int? { moves[v]?.count ?? ranks[v] ?? shapes[v]?.count ?? model.values[v]?.shape?.count }
        func identity(_ rank: Int) -> [Int] { Array(0..<rank) }
        func transposition(_ rank: Int, from: DataLayout, to: DataLayout) -> [Int] {
            LayoutPermutation.transposition(rank: rank, from: from, to: to)
        }
        /// The layout the original model's value `v` is in, as the reader declared it.
        func declared(_ v: String) -> DataLayout? { model.values[origins[v] ?? v]?.layout }

        /// `v` as the original tensor transposed by `want` (a transpose node inserted once when it
        /// is not); `reader` is the node that needs it.
        mutating func ensure(_ v: String, _ want: [Int], label: DataLayout?, reader: String, reason: String) throws -> String {
            if rowMoves[v] != nil {
                throw LayoutConversionError(node: reader, problem: "it reads '\(v)', a flattened vector whose elements the conversion reordered for a Dense")
            }
            let r = want.count
            if let known = rank(v), known != r {
                throw LayoutConversionError(node: reader, problem: "it reads '\(v)' as a rank-\(r) tensor, but '\(v)' has rank \(known)")
            }
            let have = moves[v] ?? identity(r)
            let bridge = LayoutPermutation.bridge(from: have, to: want)
            if LayoutPermutation.isIdentity(bridge) { return v }
            let key = "\(v)|\(want)"
            if let done = transposes[key] { return done }
            let name = names.claim("\(v)_to_\(label?.rawValue ?? "original")")
            nodes.append(Node(name: name, op: .permute(permutation: Array(bridge.dropFirst())), inputs: [v], outputs: [name]))
            if !LayoutPermutation.isIdentity(want) { moves[name] = want }
            ranks[name] = r
            labels[name] = label
            origins[name] = origins[v] ?? v
            transposes[key] = name
            inserted.append(name)
            notes.append("transpose \(name) inserted: \(reason)")
            return name
        }

        mutating func run(keepIOLayout: Bool) throws {
            planFlattenDense()
            for var node in model.nodes {
                if case .input = node.op {
                    nodes.append(node)
                    for o in node.outputs where !keepIOLayout {
                        guard let r = rank(o), r >= 3 else { continue }
                        let from = model.values[o]?.layout ?? .channelsLast
                        let move = transposition(r, from: from, to: target)
                        guard !LayoutPermutation.isIdentity(move) else { continue }
                        moves[o] = move
                        labels[o] = target
                        notes.append("input \(o): declared shape permuted to \(target.rawValue)")
                    }
                    continue
                }
                try convert(&node)
                nodes.append(node)
            }
            var outputs = model.outputs
            for (i, o) in outputs.enumerated() {
                guard let move = moves[o] else { continue }
                let declared = model.values[o]?.layout ?? .channelsLast
                if keepIOLayout {
                    outputs[i] = try ensure(o, identity(move.count), label: model.values[o]?.layout, reader: o,
                                            reason: "output \(o) kept in \(declared.rawValue) (--keep-io-layout)")
                } else if move != transposition(move.count, from: declared, to: target) {
                    outputs[i] = try ensure(o, identity(move.count), label: model.values[o]?.layout, reader: o,
                                            reason: "output \(o) would not come out in \(target.rawValue): it is given back as the original computes it")
                } else {
                    notes.append("output \(o): now \(target.rawValue)")
                }
            }
            output.nodes = nodes
            output.outputs = outputs
            for (v, move) in moves { describe(v, move: move) }
            for name in inserted where moves[name] == nil { describe(name, move: nil) }
        }

        /// The converted model's record of value `v`, moved by `move` from the original's.
        mutating func describe(_ v: String, move: [Int]?) {
            let origin = origins[v] ?? v
            var info = model.values[origin] ?? ValueInfo(name: origin)
            info.name = v
            let shape = model.values[origin]?.shape ?? shapes[origin]
            if let shape, let move, shape.count == move.count {
                info.shape = LayoutPermutation.permuted(shape, by: move)
            } else if shape == nil, let r = move?.count ?? ranks[v] {
                // The rank alone says how the boundary is transposed (``LayoutBoundary``).
                info.shape = [Int?](repeating: nil, count: r)
            }
            info.layout = labels[v] ?? (move == nil ? model.values[origin]?.layout : nil)
            output.values[v] = info
        }

        /// Flatten nodes whose output feeds only Dense kernels: those Dense rows get permuted
        /// instead of transposing the activations, if the Flatten's input moves.
        mutating func planFlattenDense() {
            for node in model.nodes {
                guard case .flatten = node.op, let x = node.inputs.first, let shape = shapes[x], shape.count >= 3,
                      !model.outputs.contains(node.outputs[0]) else { continue }
                let consumers = model.consumerIndices(of: node.outputs[0]).map { model.nodes[$0] }
                guard !consumers.isEmpty, consumers.allSatisfy({ c in
                    if case .dense = c.op, c.inputs == [node.outputs[0]], let k = c.weight(.kernel), !k.isShared,
                       k.layout == .io || k.layout == .oi { return true }
                    return false
                }) else { continue }
                let dims = shape.dropFirst()
                guard !dims.contains(where: { $0 == nil }) else { continue }
                flattenDims[node.name] = dims.map { $0! }
            }
        }

        mutating func setOutputs(_ node: Node, move: [Int]?, label: DataLayout?, rank: Int?) {
            for o in node.outputs {
                if let rank { ranks[o] = rank }
                if let move, !LayoutPermutation.isIdentity(move) {
                    moves[o] = move
                    labels[o] = label
                }
            }
        }

        /// A layout op of rank `r` reading its data input in `from`: converted to `target`, its data
        /// input transposed to `target` and any other input left as the original has it.
        mutating func moveWindow(_ node: inout Node, rank r: Int, from: DataLayout) throws -> [Int] {
            let move = transposition(r, from: from, to: target)
            let reason = "\(node.name) reads \(target.rawValue)"
            for (k, v) in node.inputs.enumerated() {
                node.inputs[k] = k == 0
                    ? try ensure(v, move, label: target, reader: node.name, reason: reason)
                    : try original(v, reader: node.name, reason: reason)
            }
            setOutputs(node, move: move, label: target, rank: r)
            return move
        }

        /// `v` as the original computes it.
        mutating func original(_ v: String, reader: String, reason: String) throws -> String {
            if rowMoves[v] != nil {
                throw LayoutConversionError(node: reader, problem: "it reads '\(v)', a flattened vector whose elements the conversion reordered for a Dense")
            }
            guard let move = moves[v] else { return v }
            return try ensure(v, identity(move.count), label: declared(v), reader: reader, reason: reason)
        }

        mutating func convert(_ node: inout Node) throws {
            let x = node.inputs.first
            let move = x.flatMap { moves[$0] }
            switch node.op {
            case .conv(var c), .depthwiseConv(var c), .separableConv(var c), .convTranspose(var c):
                if c.activation == .softmax && c.layout != target {
                    return try keepOriginal(&node, reason: "\(node.name) applies a softmax on the last axis")
                }
                _ = try moveWindow(&node, rank: c.rank + 2, from: c.layout)
                c.layout = target
                switch node.op {
                case .conv: node.op = .conv(c)
                case .depthwiseConv: node.op = .depthwiseConv(c)
                case .separableConv: node.op = .separableConv(c)
                default: node.op = .convTranspose(c)
                }
            case .pool(var p):
                _ = try moveWindow(&node, rank: p.poolSize.count + 2, from: p.layout)
                p.layout = target
                node.op = .pool(p)
            case .globalPool(var g):
                guard let x, let r = rank(x), r >= 3 else {
                    return try keepOriginal(&node, reason: "\(node.name) pools a tensor of unknown rank")
                }
                _ = try moveWindow(&node, rank: r, from: g.layout)
                if !g.keepDims { for o in node.outputs { moves[o] = nil; labels[o] = nil; ranks[o] = 2 } }
                g.layout = target
                node.op = .globalPool(g)
            case .pad(let padding, let layout):
                _ = try moveWindow(&node, rank: padding.count + 2, from: layout)
                node.op = .pad(padding: padding, layout: target)
            case .crop(let cropping, let layout):
                _ = try moveWindow(&node, rank: cropping.count + 2, from: layout)
                node.op = .crop(cropping: cropping, layout: target)
            case .upsample(let size, let interpolation, let layout):
                _ = try moveWindow(&node, rank: size.count + 2, from: layout)
                node.op = .upsample(size: size, interpolation: interpolation, layout: target)
            case .batchNorm(var bn):
                guard let x, let move else { return try unchangedUnlessMoved(&node) }
                let r = move.count
                let axis = Op.resolveAxis(bn.axis, rank: r)
                guard axis == 1 || axis == r - 1, let now = LayoutPermutation.position(of: axis, in: move), now == 1 || now == r - 1,
                      try node.inputs.dropFirst().allSatisfy({ moves[$0] == nil && rowMoves[$0] == nil }) else {
                    return try keepOriginal(&node, reason: "\(node.name) normalizes an axis that is not a channel axis once moved")
                }
                bn.axis = now
                node.op = .batchNorm(bn)
                setOutputs(node, move: move, label: labels[x], rank: r)
            case .activation(let a):
                guard let x, let move else { return try unchangedUnlessMoved(&node) }
                if a == .softmax { return try keepOriginal(&node, reason: "\(node.name) applies a softmax on the last axis") }
                setOutputs(node, move: move, label: labels[x], rank: move.count)
            case .identity:
                guard let x, let move else { return try unchangedUnlessMoved(&node) }
                setOutputs(node, move: move, label: labels[x], rank: move.count)
            case .rescaling(let scale, let offset):
                guard let x, let move else { return try unchangedUnlessMoved(&node) }
                if scale.count <= 1 && offset.count <= 1 {
                    setOutputs(node, move: move, label: labels[x], rank: move.count)
                } else {
                    try keepOriginal(&node, reason: "\(node.name) scales per channel on the last axis")
                }
            case .softmax(let axis):
                guard let x, let move else { return try unchangedUnlessMoved(&node) }
                node.op = .softmax(axis: LayoutPermutation.position(of: Op.resolveAxis(axis, rank: move.count), in: move) ?? axis)
                setOutputs(node, move: move, label: labels[x], rank: move.count)
            case .normalization(let axes):
                guard let x, let move else { return try unchangedUnlessMoved(&node) }
                node.op = .normalization(axis: axes.map { LayoutPermutation.position(of: Op.resolveAxis($0, rank: move.count), in: move) ?? $0 })
                setOutputs(node, move: move, label: labels[x], rank: move.count)
            case .elementwise:
                try merge(&node, scalars: true)
            case .concat(let axis):
                if let move = try merge(&node, scalars: false) {
                    node.op = .concat(axis: LayoutPermutation.position(of: Op.resolveAxis(axis, rank: move.count), in: move) ?? axis)
                }
            case .tensor(let op) where TensorOpShapes.isLayoutFree(op, node: node):
                // Element-wise with scalar constants (swish's multiply, IdentityN): any layout,
                // as long as every operand is in the same one.
                try merge(&node, scalars: true)
            case .flatten:
                guard let move else { return try unchangedUnlessMoved(&node) }
                if let dims = flattenDims[node.name], dims.count == move.count - 1,
                   // One entry per flattened element: a declared shape of 2^62 channels would
                   // overflow or exhaust memory (no Dense kernel has that many rows).
                   ElementCount.of(dims, atMost: Int(Int32.max)) != nil {
                    rowMoves[node.outputs[0]] = LayoutPermutation.flattenRowPermutation(dims: dims, transposedBy: move)
                } else {
                    try keepOriginal(&node, reason: "\(node.name) flattens in memory order and does not feed only Dense kernels")
                }
            case .dense:
                if let x, let rows = rowMoves[x], var kernel = node.weight(.kernel) {
                    kernel.tensor = kernel.layout == .io
                        ? try LayoutPermutation.gatherRows(kernel.tensor, rows)
                        : try LayoutPermutation.gatherRows(kernel.tensor.transposed([1, 0]), rows).transposed([1, 0])
                    kernel.isModified = true
                    node.setWeight(kernel)
                    permutedDense.append(node.name)
                } else if node.inputs.contains(where: { moves[$0] != nil || rowMoves[$0] != nil }) {
                    try keepOriginal(&node, reason: "\(node.name) is a Dense on a spatial tensor (acts on the last axis)")
                }
            case .reshape(let shape):
                if let x, moves[x] == nil, rowMoves[x] == nil, let moved = movedReshape(node, shape: shape) {
                    // A value with one axis beside the batch that is not 1 (squeeze-excite: (N, C) ->
                    // (N, 1, 1, C)) is the same memory in either layout: the target shape itself moves.
                    node.op = .reshape(targetShape: moved.shape)
                    setOutputs(node, move: moved.move, label: target, rank: moved.move.count)
                } else {
                    try unchangedUnlessMoved(&node)
                }
            case .permute, .opaque, .tensor, .input:
                try unchangedUnlessMoved(&node)
            }
        }

        /// For a Reshape of a value the conversion left alone into a shape whose axes after the
        /// batch are all 1 but one: the target shape in `target` and the transposition that
        /// relates it to the original's; nil when the shape is not of that kind or already fits.
        func movedReshape(_ node: Node, shape: [Int]) -> (shape: [Int], move: [Int])? {
            let full = [0] + shape
            let r = full.count
            guard (3...5).contains(r) else { return nil }
            let others = (1..<r).filter { full[$0] != 1 }
            guard others.count <= 1 else { return nil }
            let from: DataLayout
            switch others.first {
            case nil: from = model.values[node.outputs[0]]?.layout ?? .channelsLast
            case r - 1: from = .channelsLast
            case 1: from = .channelsFirst
            default: return nil
            }
            let move = transposition(r, from: from, to: target)
            guard !LayoutPermutation.isIdentity(move) else { return nil }
            return (Array(LayoutPermutation.permuted(full, by: move).dropFirst()), move)
        }

        /// A node whose op reads axes by position: untouched when its inputs are the original's,
        /// else fed the original tensors.
        mutating func unchangedUnlessMoved(_ node: inout Node) throws {
            if node.inputs.contains(where: { moves[$0] != nil || rowMoves[$0] != nil }) {
                try keepOriginal(&node, reason: "\(node.name) (\(node.opName)) reads axes by position")
            }
        }

        /// For an op computing element by element over same-shaped (or, with `scalars`,
        /// broadcast-scalar) operands: every operand moved like the first moved one, which it
        /// returns; nil when no operand moved. When an operand cannot be moved (its rank is not
        /// known to match), the node is fed the original tensors instead (and nil is returned).
        @discardableResult
        mutating func merge(_ node: inout Node, scalars: Bool) throws -> [Int]? {
            guard node.inputs.allSatisfy({ rowMoves[$0] == nil }),
                  let first = node.inputs.first(where: { moves[$0] != nil }), let want = moves[first] else {
                try unchangedUnlessMoved(&node)
                return nil
            }
            let r = want.count
            func isScalar(_ v: String) -> Bool {
                guard scalars, moves[v] == nil, let s = shapes[v] ?? model.values[v]?.shape else { return false }
                return s.count <= r && s.allSatisfy { $0 == 1 }
            }
            guard node.inputs.allSatisfy({ moves[$0] == want || isScalar($0) || rank($0) == r }) else {
                try keepOriginal(&node, reason: "\(node.name) (\(node.opName)) combines tensors whose ranks the conversion does not know to match")
                return nil
            }
            let label = labels[first]
            for (k, v) in node.inputs.enumerated() where moves[v] != want && !isScalar(v) {
                node.inputs[k] = try ensure(v, want, label: label, reader: node.name, reason: "\(node.name) merges inputs of different layouts")
            }
            setOutputs(node, move: want, label: label, rank: r)
            return want
        }

        /// Feeds the node the original tensors; its outputs are the original's.
        mutating func keepOriginal(_ node: inout Node, reason: String) throws {
            for (k, v) in node.inputs.enumerated() {
                node.inputs[k] = try original(v, reader: node.name, reason: reason)
            }
        }
    }
}
