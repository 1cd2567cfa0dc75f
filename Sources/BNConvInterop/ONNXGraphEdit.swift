import BNConvCore

/// A description of how to rewrite the main graph of an unpacked ONNX model, built by the ONNX
/// writer from a ``Model`` and applied by ``ONNXModelMessage/apply(_:)``.
///
/// Items that name an original index reuse that record as it was read (so its unknown fields and
/// every attribute survive); everything not listed is dropped.
package struct ONNXGraphEdit {
    /// One node of the rewritten graph.
    package enum NodeItem {
        /// Original node `index` with (possibly renamed) inputs and outputs.
        case original(index: Int, inputs: [String], outputs: [String])
        /// A node the writer made (int/float/ints attributes only).
        case new(ONNXProto.Node)
    }

    /// One initializer of the rewritten graph.
    package enum InitializerItem {
        /// Original initializer `index`, untouched.
        case original(index: Int)
        /// Original initializer `index` (name, doc string, unknown fields kept) with new values,
        /// stored in `raw_data`; every typed data field is cleared.
        case replaced(index: Int, dataType: Int32, dims: [Int64], rawData: [UInt8])
        /// Original initializer `index` with new values still to be computed (a folded kernel
        /// left deferred: ``Tensor/isDeferred``), stored in `raw_data` when the message is
        /// packed: `content`'s raw bytes.
        case computed(index: Int, dataType: Int32, dims: [Int64], content: Tensor)
        /// A new initializer stored in `raw_data`.
        case new(name: String, dataType: Int32, dims: [Int64], rawData: [UInt8])
    }

    /// The graph's nodes, in order.
    package var nodes: [NodeItem]
    /// The graph's initializers, in order.
    package var initializers: [InitializerItem]
    /// Indices of the original `graph.input` entries to keep, in order.
    package var inputs: [Int]
    /// Graph inputs to append (IR < 4 lists every initializer as a graph input, new ones too):
    /// name, element type, dims.
    package var newInputs: [(name: String, elemType: Int32, dims: [Int64])] = []
    /// The original `graph.output` entries to keep, in order, each with its (possibly new) name.
    package var outputs: [(index: Int, name: String)]
    /// Indices of the original `graph.value_info` entries to keep, in order.
    package var valueInfos: [Int]
    /// Graph inputs and outputs (by their written name) whose declared shape is permuted: the
    /// new dim `i` is the old dim `permutation[i]` (numpy `transpose` order). Each dimension
    /// message moves whole, so symbolic names and unknown fields go with it.
    package var permutedShapes: [String: [Int]] = [:]

    /// Creates a value from each stored property (the memberwise initializer, across modules).
    package init(nodes: [NodeItem], initializers: [InitializerItem], inputs: [Int], newInputs: [(name: String, elemType: Int32, dims: [Int64])] = [], outputs: [(index: Int, name: String)], valueInfos: [Int]) {
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.newInputs = newInputs
        self.outputs = outputs
        self.valueInfos = valueInfos
    }
}
