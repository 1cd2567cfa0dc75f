import BNConvCore
import BNConvModel

/// Moves the spatial inputs and outputs of a model whose layers compute channels-first by
/// definition (an ONNX graph: its Conv, pooling and BatchNormalization read NCHW) between NHWC and
/// NCHW, leaving every computing node, weight and attribute as it is.
///
/// For such a model the layout `convert --layout` chooses is the one its user feeds and reads.
/// tf2onnx writes a TensorFlow or Keras model with NHWC inputs, each read through a Transpose to
/// NCHW, and a Transpose back to NHWC before each spatial output (`InterfaceTransposes` finds
/// them); the layers between are NCHW.
///
/// - To channels-first, those transposes are removed: the input is declared NCHW and read by the
///   layers directly, and the output is the value the transpose read, under the output's name.
///   (tf2onnx's `--inputs-as-nchw` does the input half when it converts.)
/// - To channels-last, one transpose is inserted after each channels-first spatial input and
///   before each channels-first spatial output; the input and output keep their names.
///
/// Inputs and outputs of rank below 4 are left alone (a rank-3 transpose does not say which side
/// is channels-last), as are those whose layout nothing declares; each is named in the notes.
public struct ConvertInterfaceLayout {
    /// The layout the model's spatial inputs and outputs get.
    public var target: DataLayout

    /// The outcome of a conversion.
    public struct Result {
        /// The converted model.
        public var model: Model
        /// Transposes removed from the interface (node names).
        public var removedTransposes: [String]
        /// Transposes inserted at the interface (node names).
        public var insertedTransposes: [String]
        /// Human-readable notes: each input and output changed or left alone, and why.
        public var notes: [String]
        /// Whether any input or output changed layout.
        public var changed: Bool { !removedTransposes.isEmpty || !insertedTransposes.isEmpty }
    }

    /// Creates the pass.
    public init(target: DataLayout) {
        self.target = target
    }

    /// Converts the interface of `model`.
    public func apply(to model: Model) -> Result {
        var state = State(model: model, target: target)
        state.run()
        return Result(model: state.model, removedTransposes: state.removed, insertedTransposes: state.inserted, notes: state.notes)
    }

    /// The conversion's working state.
    private struct State {
        var model: Model
        let target: DataLayout
        var removed: [String] = []
        var inserted: [String] = []
        var notes: [String] = []
        var names: NameAllocator
        /// Nodes to drop (indices into the nodes as read), and nodes to add: after the node at an
        /// index (`-1`: before every node), in order.
        var dropped = Set<Int>()
        var added: [Int: [Node]] = [:]

        init(model: Model, target: DataLayout) {
            self.model = model
            self.target = target
            var names = NameAllocator(taken: model.nodes.map(\.name))
            names.reserve(model.values.keys)
            names.reserve(model.inputs)
            for node in model.nodes { names.reserve(node.outputs) }
            self.names = names
        }

        var targetName: String { target == .channelsFirst ? "nchw" : "nhwc" }

        func rank(_ value: String) -> Int? { model.values[value]?.shape?.count }

        mutating func run() {
            let original = model
            for input in original.inputs { convertInput(input, in: original) }
            for (position, output) in original.outputs.enumerated() { convertOutput(output, at: position, in: original) }
            var nodes: [Node] = added[-1] ?? []
            for (i, node) in model.nodes.enumerated() {
                if !dropped.contains(i) { nodes.append(node) }
                nodes += added[i] ?? []
            }
            model.nodes = nodes
        }

        /// Renames every read of `old` (node inputs) to `new`.
        mutating func redirectReads(of old: String, to new: String) {
            for i in model.nodes.indices where model.nodes[i].inputs.contains(old) {
                model.nodes[i].inputs = model.nodes[i].inputs.map { $0 == old ? new : $0 }
            }
        }

        mutating func convertInput(_ input: String, in original: Model) {
            guard let rank = rank(input), rank >= 4 else { return }
            guard !original.outputs.contains(input) else {
                notes.append("input \(input) is also an output: left as it is")
                return
            }
            if let readers = InterfaceTransposes.afterInput(input, rank: rank, in: original) {
                guard target == .channelsFirst else { return }   // already channels-last
                for i in readers {
                    let transpose = original.nodes[i]
                    guard let out = transpose.outputs.first, !original.outputs.contains(out) else {
                        notes.append("input \(input): its transpose \(transpose.name) writes a model output; left as it is")
                        return
                    }
                }
                for i in readers {
                    let transpose = original.nodes[i]
                    redirectReads(of: transpose.outputs[0], to: input)
                    model.values[transpose.outputs[0]] = nil
                    dropped.insert(i)
                    removed.append(transpose.name)
                }
                declare(input, from: .channelsLast)
                notes.append("input \(input): now \(targetName) (transpose \(readers.map { original.nodes[$0].name }.joined(separator: ", ")) removed)")
                return
            }
            guard let layout = model.values[input]?.layout else {
                notes.append("input \(input): no layout declared; left as it is")
                return
            }
            guard layout != target, target == .channelsLast, let producer = original.producerIndex(of: input) else { return }
            let value = names.claim("\(input)_nchw")
            let name = names.claim("\(input)_to_nchw")
            redirectReads(of: input, to: value)
            var info = model.values[input] ?? ValueInfo(name: input)
            info.name = value
            model.values[value] = info
            declare(input, from: .channelsFirst)
            added[producer, default: []].append(Node(name: name, op: .permute(permutation: LayoutPermutation.permuteDims(rank: rank, from: .channelsLast, to: .channelsFirst)),
                                                     inputs: [input], outputs: [value]))
            inserted.append(name)
            notes.append("input \(input): now nhwc (transpose \(name) inserted after it)")
        }

        mutating func convertOutput(_ output: String, at position: Int, in original: Model) {
            guard let rank = rank(output), rank >= 4, !original.inputs.contains(output) else { return }
            if let i = InterfaceTransposes.beforeOutput(output, rank: rank, in: original) {
                guard target == .channelsFirst else { return }
                let transpose = original.nodes[i]
                let source = transpose.inputs[0]
                guard original.consumerIndices(of: output).isEmpty, !original.inputs.contains(source),
                      !original.outputs.contains(source), original.outputs.filter({ $0 == output }).count == 1,
                      let producer = original.producerIndex(of: source) else {
                    notes.append("output \(output): its transpose \(transpose.name) is read elsewhere too; left as it is")
                    return
                }
                // The value the transpose read takes the output's name.
                dropped.insert(i)
                removed.append(transpose.name)
                model.nodes[producer].outputs = model.nodes[producer].outputs.map { $0 == source ? output : $0 }
                redirectReads(of: source, to: output)
                var info = model.values[source] ?? ValueInfo(name: output)
                info.name = output
                model.values[source] = nil
                model.values[output] = info
                notes.append("output \(output): now \(targetName) (transpose \(transpose.name) removed)")
                return
            }
            guard let layout = model.values[output]?.layout else {
                notes.append("output \(output): no layout declared; left as it is")
                return
            }
            guard layout != target, target == .channelsLast, original.outputs.filter({ $0 == output }).count == 1,
                  let producer = original.producerIndex(of: output) else { return }
            // The producer writes a new value; the inserted transpose writes the output's name.
            let value = names.claim("\(output)_nchw")
            let name = names.claim("\(output)_to_nhwc")
            model.nodes[producer].outputs = model.nodes[producer].outputs.map { $0 == output ? value : $0 }
            redirectReads(of: output, to: value)
            var info = model.values[output] ?? ValueInfo(name: output)
            info.name = value
            model.values[value] = info
            declare(output, from: .channelsFirst)
            added[original.nodes.count - 1, default: []].append(Node(name: name, op: .permute(permutation: LayoutPermutation.permuteDims(rank: rank, from: .channelsFirst, to: .channelsLast)),
                                                                     inputs: [value], outputs: [output]))
            inserted.append(name)
            notes.append("output \(output): now nhwc (transpose \(name) inserted before it)")
        }

        /// Declares `value` in the other layout than `from`, its shape permuted.
        mutating func declare(_ value: String, from: DataLayout) {
            let to: DataLayout = from == .channelsFirst ? .channelsLast : .channelsFirst
            var info = model.values[value] ?? ValueInfo(name: value)
            if let shape = info.shape { info.shape = LayoutPermutation.mapShape(shape, from: from, to: to) }
            info.layout = to
            model.values[value] = info
        }
    }
}
