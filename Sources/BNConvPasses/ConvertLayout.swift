import BNConvCore
import BNConvModel

/// Switches a model's activations between channels-last (NHWC) and channels-first (NCHW).
///
/// Before: every spatial op reads and writes `from`-layout tensors. After: they read and write
/// `target`-layout tensors; kernels keep their layout (Keras keeps `hwio` whatever the
/// data_format), the BN, Concatenate, Softmax and Normalization axes move with the channels, the
/// Flatten -> Dense permutation is folded into the Dense rows (no transpose), and declared shapes
/// are permuted. Layouts are tracked per value symbolically (from op attributes, never guessed
/// from dimension sizes). Ops that read axes the pass cannot move (Reshape, Permute, opaque ops,
/// Dense on a spatial tensor, per-channel Rescaling) get their input transposed back to the
/// original layout, and each such transpose is reported. At the boundary the declared input and
/// output shapes are permuted (the user feeds `target`), or with `keepIOLayout` one transpose is
/// inserted after each spatial input and before each spatial output.
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

    /// Converts `model`.
    public func apply(to model: Model) throws -> Result {
        var state = State(model: model, target: target)
        try state.run(keepIOLayout: keepIOLayout)
        return Result(model: state.output, insertedTransposes: state.inserted, permutedDenseRows: state.permutedDense, notes: state.notes)
    }

    /// The conversion's working state: the original layout and the current layout of every value.
    private struct State {
        let model: Model
        let target: DataLayout
        let shapes: [String: [Int?]]
        var original: [String: DataLayout] = [:]
        var current: [String: DataLayout] = [:]
        var nodes: [Node] = []
        var conversions: [String: String] = [:]
        var inserted: [String] = []
        var permutedDense: [String] = []
        var notes: [String] = []
        var rowPermutation: [String: [Int]] = [:]
        var names: NameAllocator
        var output: Model

        init(model: Model, target: DataLayout) {
            self.model = model
            self.target = target
            self.shapes = ShapeInference.shapes(of: model)
            self.output = model
            var names = NameAllocator(taken: model.nodes.map(\.name))
            names.reserve(model.inputs)
            for n in model.nodes { names.reserve(n.outputs) }
            self.names = names
        }

        func rank(_ v: String) -> Int? { shapes[v]?.count ?? model.values[v]?.shape?.count }
        func isSpatial(_ v: String) -> Bool { (rank(v) ?? 0) >= 3 && original[v] != nil }


        /// `v` in layout `layout`, inserting (once) a transpose node when it is not.
        mutating func ensure(_ v: String, _ layout: DataLayout, reason: String) -> String {
            guard let have = current[v], have != layout, let r = rank(v) else { return v }
            let key = "\(v)->\(layout.rawValue)"
            if let done = conversions[key] { return done }
            let name = names.claim("\(v)_to_\(layout.rawValue)")
            let dims = LayoutPermutation.permuteDims(rank: r, from: have, to: layout)
            nodes.append(Node(name: name, op: .permute(permutation: dims), inputs: [v], outputs: [name]))
            original[name] = original[v]
            current[name] = layout
            conversions[key] = name
            inserted.append(name)
            notes.append("transpose \(name) inserted: \(reason)")
            return name
        }

        mutating func run(keepIOLayout: Bool) throws {
            // Original layouts: declared on inputs (channels-last by default), from op attributes after.
            for input in model.inputs where (rank(input) ?? 0) >= 3 {
                original[input] = model.values[input]?.layout ?? .channelsLast
            }
            planFlattenDense()
            for var node in model.nodes {
                if case .input = node.op {
                    nodes.append(node)
                    for o in node.outputs where original[o] == nil && (rank(o) ?? 0) >= 3 {
                        original[o] = model.values[o]?.layout ?? .channelsLast
                    }
                    for o in node.outputs where original[o] != nil {
                        if keepIOLayout {
                            current[o] = original[o]
                        } else {
                            current[o] = target
                            if original[o] != target {
                                notes.append("input \(o): declared shape permuted to \(target.rawValue)")
                            }
                        }
                    }
                    continue
                }
                try convert(&node)
                nodes.append(node)
            }
            var outputs = model.outputs
            for (i, o) in outputs.enumerated() where isSpatial(o) {
                if keepIOLayout, let orig = original[o] {
                    outputs[i] = ensure(o, orig, reason: "output \(o) kept in \(orig.rawValue) (--keep-io-layout)")
                } else if current[o] != original[o] {
                    notes.append("output \(o): now \(current[o]!.rawValue)")
                }
            }
            output.nodes = nodes
            output.outputs = outputs
            for (v, layout) in current {
                var info = output.values[v] ?? ValueInfo(name: v)
                let shape = info.shape ?? shapes[v]
                if let orig = original[v], let shape {
                    info.shape = LayoutPermutation.mapShape(shape, from: orig, to: layout)
                }
                info.layout = layout
                output.values[v] = info
            }
        }

        /// Flatten nodes whose spatial input will change layout and whose output feeds only Dense
        /// kernels: those Dense rows get permuted instead of transposing the activations.
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
                rowPermutation[node.name] = dims.map { $0! }     // resolved once the layouts are known
            }
        }

        mutating func convert(_ node: inout Node) throws {
            let spatialInputs = node.inputs.filter { isSpatial($0) }
            func setOutputs(_ layout: DataLayout?) {
                for o in node.outputs where (rank(o) ?? 0) >= 3 {
                    original[o] = originalLayout(of: node) ?? original[node.inputs.first ?? ""]
                    current[o] = layout ?? original[o]
                }
            }
            /// For an op merging same-rank spatial inputs in any one layout: every input moved to
            /// the first one's current layout, which it returns; nil (inputs untouched) when an input
            /// is not spatial or the ranks differ.
            func inOneLayout() -> DataLayout? {
                let ranks = Set(node.inputs.map { rank($0) ?? -1 })
                guard spatialInputs.count == node.inputs.count, ranks.count == 1, let first = spatialInputs.first,
                      let layout = current[first] else { return nil }
                node.inputs = node.inputs.map { ensure($0, layout, reason: "\(node.name) merges inputs of different layouts") }
                return layout
            }
            switch node.op {
            case .conv(var c), .depthwiseConv(var c), .separableConv(var c), .convTranspose(var c):
                node.inputs = node.inputs.map { ensure($0, target, reason: "") }
                c.layout = target
                switch node.op {
                case .conv: node.op = .conv(c)
                case .depthwiseConv: node.op = .depthwiseConv(c)
                case .separableConv: node.op = .separableConv(c)
                default: node.op = .convTranspose(c)
                }
                setOutputs(target)
            case .pool(var p):
                node.inputs = node.inputs.map { ensure($0, target, reason: "") }
                p.layout = target
                node.op = .pool(p)
                setOutputs(target)
            case .globalPool(var g):
                node.inputs = node.inputs.map { ensure($0, target, reason: "") }
                g.layout = target
                node.op = .globalPool(g)
                setOutputs(target)
            case .pad(let padding, _):
                node.inputs = node.inputs.map { ensure($0, target, reason: "") }
                node.op = .pad(padding: padding, layout: target)
                setOutputs(target)
            case .crop(let cropping, _):
                node.inputs = node.inputs.map { ensure($0, target, reason: "") }
                node.op = .crop(cropping: cropping, layout: target)
                setOutputs(target)
            case .upsample(let size, let interpolation, _):
                node.inputs = node.inputs.map { ensure($0, target, reason: "") }
                node.op = .upsample(size: size, interpolation: interpolation, layout: target)
                setOutputs(target)
            case .batchNorm(var bn):
                if let x = spatialInputs.first, let r = rank(x), let from = original[x], let now = current[x] {
                    if Op.resolveAxis(bn.axis, rank: r) == from.channelAxis(rank: r) {
                        bn.axis = now.channelAxis(rank: r)
                        node.op = .batchNorm(bn)
                        setOutputs(now)
                    } else {
                        node.inputs = [ensure(x, from, reason: "\(node.name) normalizes a non-channel axis")]
                        setOutputs(from)
                    }
                }
            case .activation, .identity:
                setOutputs(spatialInputs.first.flatMap { current[$0] })
            case .rescaling(let scale, let offset):
                if scale.count <= 1 && offset.count <= 1 {
                    setOutputs(spatialInputs.first.flatMap { current[$0] })
                } else {
                    keepOriginal(&node, reason: "\(node.name) scales per channel on the last axis")
                }
            case .softmax(let axis):
                if let x = spatialInputs.first, let r = rank(x), let from = original[x], let now = current[x] {
                    node.op = .softmax(axis: LayoutPermutation.mapAxis(axis, rank: r, from: from, to: now))
                    setOutputs(now)
                }
            case .normalization(let axes):
                if let x = spatialInputs.first, let r = rank(x), let from = original[x], let now = current[x] {
                    node.op = .normalization(axis: axes.map { LayoutPermutation.mapAxis($0, rank: r, from: from, to: now) })
                    setOutputs(now)
                }
            case .elementwise, .concat:
                if let layout = inOneLayout() {
                    let first = spatialInputs[0]
                    if case .concat(let axis) = node.op, let r = rank(first), let from = original[first] {
                        node.op = .concat(axis: LayoutPermutation.mapAxis(axis, rank: r, from: from, to: layout))
                    }
                    setOutputs(layout)
                } else if !spatialInputs.isEmpty {
                    keepOriginal(&node, reason: "\(node.name) broadcasts tensors of different ranks")
                }
            case .flatten:
                if let x = node.inputs.first, isSpatial(x), let dims = rowPermutation[node.name],
                   let from = original[x], let now = current[x], from != now,
                   // One entry per flattened element: a declared shape of 2^62 channels would
                   // overflow or exhaust memory (no Dense kernel has that many rows).
                   ElementCount.of(dims, atMost: Int(Int32.max)) != nil {
                    let perm = LayoutPermutation.flattenRowPermutation(spatial: Array(dims.dropLast(from == .channelsLast ? 1 : 0).dropFirst(from == .channelsFirst ? 1 : 0)),
                                                                       channels: from == .channelsLast ? dims.last! : dims.first!,
                                                                       from: from, to: now)
                    rowPermutation[node.outputs[0] + "#rows"] = perm
                } else if !spatialInputs.isEmpty {
                    keepOriginal(&node, reason: "\(node.name) flattens in memory order and does not feed only Dense kernels")
                }
            case .dense:
                if let x = node.inputs.first, let perm = rowPermutation[x + "#rows"], var kernel = node.weight(.kernel) {
                    kernel.tensor = kernel.layout == .io
                        ? try LayoutPermutation.gatherRows(kernel.tensor, perm)
                        : try LayoutPermutation.gatherRows(kernel.tensor.transposed([1, 0]), perm).transposed([1, 0])
                    kernel.isModified = true
                    node.setWeight(kernel)
                    permutedDense.append(node.name)
                } else if !spatialInputs.isEmpty {
                    keepOriginal(&node, reason: "\(node.name) is a Dense on a spatial tensor (acts on the last axis)")
                }
            case .tensor(let op) where TensorOpShapes.isLayoutFree(op, node: node) && !spatialInputs.isEmpty:
                // Element-wise with scalar constants (swish's multiply, IdentityN): any layout,
                // as long as every operand is in the same one.
                if let layout = inOneLayout() {
                    setOutputs(layout)
                } else {
                    keepOriginal(&node, reason: "\(node.name) (\(node.opName)) broadcasts tensors of different ranks")
                }
            case .reshape(let shape) where spatialInputs.isEmpty && shape.count >= 2 && shape.count <= 4:
                // A vector reshaped to a spatial value (squeeze-excite: (N, C) -> (N, 1, 1, C)):
                // the value is in the model's own layout, and when only the channel is not 1 the
                // target shape itself moves to the new layout (no transpose).
                let o = node.outputs[0]
                let from = model.values[o]?.layout ?? .channelsLast
                original[o] = from
                let full: [Int] = [0] + shape
                let channel = from.channelAxis(rank: full.count)
                if full.indices.allSatisfy({ $0 == 0 || $0 == channel || full[$0] == 1 }) {
                    node.op = .reshape(targetShape: Array(LayoutPermutation.mapShape(full, from: from, to: target).dropFirst()))
                    current[o] = target
                } else {
                    current[o] = from
                }
            case .reshape, .permute, .opaque, .tensor, .input:
                if !spatialInputs.isEmpty {
                    keepOriginal(&node, reason: "\(node.name) (\(node.opName)) reads axes by position")
                }
            }
        }

        /// Feeds the node its spatial inputs in their original layout; its outputs keep theirs.
        mutating func keepOriginal(_ node: inout Node, reason: String) {
            node.inputs = node.inputs.map { v in
                guard let from = original[v] else { return v }
                return ensure(v, from, reason: reason)
            }
            for o in node.outputs where (rank(o) ?? 0) >= 3 {
                original[o] = originalLayout(of: node) ?? node.inputs.compactMap { original[$0] }.first ?? .channelsLast
                current[o] = original[o]
            }
        }

        /// The layout an op's attributes say it wrote in the original model, if it has one.
        func originalLayout(of node: Node) -> DataLayout? {
            guard let source = model.node(named: node.name) else { return nil }
            switch source.op {
            case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): return c.layout
            case .pool(let p): return p.layout
            case .globalPool(let g): return g.layout
            case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): return l
            default: return nil
            }
        }
    }
}
