/// An error with a suggestion of what to do next, printed as `file: error; hint`.
public struct HintedError: Error, CustomStringConvertible {
    /// The underlying error.
    public let error: any Error
    /// What the user can do about it.
    public let hint: String
    /// The file (or files) the error is about, printed first when given.
    public let file: String?

    /// Wraps `error` with `hint`; `file` is printed first when given.
    public init(_ error: any Error, file: String? = nil, hint: String) {
        self.error = error
        self.hint = hint
        self.file = file
    }

    /// `file: error; hint`.
    public var description: String { (file.map { "\($0): " } ?? "") + "\(error); \(hint)" }
}
