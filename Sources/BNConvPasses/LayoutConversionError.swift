/// A layout conversion bnconv refuses, and why: the node where the converted model could not be
/// proven to compute what the original computes (nothing is written).
public struct LayoutConversionError: Error, Equatable, CustomStringConvertible {
    /// The node (or model output) the problem is at.
    public var node: String
    /// What is wrong, in words.
    public var problem: String

    /// Creates an error.
    public init(node: String, problem: String) {
        self.node = node
        self.problem = problem
    }

    /// `node 'X': problem; the layout conversion is refused`.
    public var description: String { "node '\(node)': \(problem); the layout conversion is refused" }
}
