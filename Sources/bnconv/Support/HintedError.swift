/// An error with a suggestion of what to do next, printed as `error; hint`.
struct HintedError: Error, CustomStringConvertible {
    /// The underlying error.
    let error: Error
    /// What the user can do about it.
    let hint: String
    /// The file (or files) the error is about, printed first when given.
    let file: String?

    init(_ error: Error, file: String? = nil, hint: String) {
        self.error = error
        self.hint = hint
        self.file = file
    }

    var description: String { (file.map { "\($0): " } ?? "") + "\(error); \(hint)" }
}
