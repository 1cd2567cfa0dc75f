/// A request that cannot be carried out as given (an option naming no layer, an output that is
/// the input, inputs that do not match the model): the command line reports it as a usage error
/// (exit status 2), not as a problem with a file.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    /// What is wrong and what to do instead, one line.
    public let message: String

    /// A usage error saying `message`.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
