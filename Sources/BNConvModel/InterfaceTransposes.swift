import BNConvCore

/// The transposes that stand at a channels-first model's interface (an ONNX graph's): after a
/// spatial input, turning channels-last into channels-first, and before a spatial output,
/// turning channels-first back into channels-last. tf2onnx writes them for a TensorFlow or Keras
/// model's NHWC inputs and outputs; `convert --layout nhwc` of an ONNX model writes them too.
///
/// Only ranks of 4 and more count: for a rank-3 tensor both directions are the same `[2, 1]`,
/// so a transpose alone cannot say which side is channels-last.
package enum InterfaceTransposes {
    /// The transposes reading input `input` (of rank `rank`), when every node reading it is one
    /// that turns channels-last into channels-first; `nil` otherwise (or when nothing reads it).
    package static func afterInput(_ input: String, rank: Int, in model: Model) -> [Int]? {
        guard rank >= 4 else { return nil }
        let readers = model.consumerIndices(of: input)
        guard !readers.isEmpty else { return nil }
        let toFirst = LayoutPermutation.permuteDims(rank: rank, from: .channelsLast, to: .channelsFirst)
        for i in readers {
            guard case .permute(let dims) = model.nodes[i].op, dims == toFirst, model.nodes[i].inputs == [input] else { return nil }
        }
        return readers
    }

    /// The transpose writing output `output` (of rank `rank`), when it turns a channels-first
    /// value into channels-last; `nil` otherwise.
    package static func beforeOutput(_ output: String, rank: Int, in model: Model) -> Int? {
        guard rank >= 4, let i = model.producerIndex(of: output),
              case .permute(let dims) = model.nodes[i].op,
              dims == LayoutPermutation.permuteDims(rank: rank, from: .channelsFirst, to: .channelsLast),
              let source = model.nodes[i].inputs.first, model.values[source]?.layout == .channelsFirst else { return nil }
        return i
    }

    /// The inputs and outputs of `model` (whose activations are channels-first) that are
    /// channels-last at the interface, by the two rules above.
    package static func channelsLastInterface(of model: Model) -> [String: DataLayout] {
        var layouts: [String: DataLayout] = [:]
        for input in model.inputs {
            guard let rank = model.values[input]?.shape?.count, afterInput(input, rank: rank, in: model) != nil else { continue }
            layouts[input] = .channelsLast
        }
        for output in model.outputs {
            guard let rank = model.values[output]?.shape?.count, beforeOutput(output, rank: rank, in: model) != nil else { continue }
            layouts[output] = .channelsLast
        }
        return layouts
    }
}
