/// A writer wrote a layout change that reads back with other numbers than the converted model:
/// nothing was written. The command line reports it like a failed verification (exit status 3).
public struct UnfaithfulWriteError: Error, CustomStringConvertible {
    /// The one-line explanation.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
