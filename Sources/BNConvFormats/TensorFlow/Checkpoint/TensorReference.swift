/// A data input of a GraphDef node: output `index` of node `node` ("node" is output 0, "node:k"
/// output k). Control inputs ("^node") are not tensor references.
struct TensorReference: Hashable, Sendable {
    /// The producing node's name.
    var node: String
    /// Which of its outputs.
    var index: Int

    /// A reference to output `index` of `node`.
    init(node: String, index: Int = 0) {
        self.node = node
        self.index = index
    }

    /// Parses a GraphDef input; nil for a control input or an empty string.
    init?(_ text: String) {
        guard !text.isEmpty, !text.hasPrefix("^") else { return nil }
        if let colon = text.lastIndex(of: ":"), let k = Int(text[text.index(after: colon)...]), k >= 0 {
            node = String(text[..<colon])
            index = k
        } else {
            node = text
            index = 0
        }
    }

    /// The GraphDef spelling ("node" for output 0).
    var text: String { index == 0 ? node : "\(node):\(index)" }
}
