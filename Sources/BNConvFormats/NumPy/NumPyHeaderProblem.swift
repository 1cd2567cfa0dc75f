import BNConvCore
import BNConvModel
import BNConvInterop

/// A malformed header, described in words.
struct NumPyHeaderProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
