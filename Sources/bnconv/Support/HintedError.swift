/// An error with a suggestion of what to do next, printed as `error; hint`.
struct HintedError: Error, CustomStringConvertible {
    /// The underlying error.
    let error: Error
    /// What the user can do about it.
    let hint: String

    init(_ error: Error, hint: String) {
        self.error = error
        self.hint = hint
    }

    var description: String { "\(error); \(hint)" }
}
