/// An error about one file that does not name it itself (an engine error while running a model
/// read from it), printed `file: error` so that every error line names its file.
public struct InFileError: Error, CustomStringConvertible {
    /// The underlying error.
    public let error: any Error
    /// The file it is about.
    public let file: String

    /// Wraps `error`, which happened while working on `file`.
    public init(_ error: any Error, file: String) {
        self.error = error
        self.file = file
    }

    /// `file: error`.
    public var description: String { "\(file): \(error)" }
}
