/// A problem reading or writing a checkpoint file: which file, where in it, and what is wrong.
///
/// Its ``description`` is the one line the CLI prints, e.g.
/// `model.h5: /model_weights/bn: attribute 'weight_names' lists 'bn/gamma:0', which does not exist`.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    /// What kind of failure, for callers that branch on it.
    public enum Kind: String, Sendable {
        /// The file does not exist or cannot be opened.
        case cannotOpen
        /// The file is not of any format bnconv reads.
        case unrecognizedFormat
        /// The file is of a known container (HDF5, zip, protobuf) but its content is malformed.
        case malformed
        /// The file is well formed but uses something bnconv does not support.
        case unsupported
        /// Writing the output failed.
        case writeFailed
    }

    /// The kind of failure.
    public var kind: Kind
    /// The file's path as the user gave it.
    public var file: String
    /// Where in the file (an HDF5 object path, a JSON key path, a node name); empty if the whole file.
    public var place: String
    /// What is wrong, in words (with the underlying library's own message where there is one).
    public var problem: String

    /// Creates an error.
    public init(_ kind: Kind, file: String, place: String = "", problem: String) {
        self.kind = kind
        self.file = file
        self.place = place
        self.problem = problem
    }

    /// `file: place: problem` (the place is left out when empty).
    public var description: String {
        place.isEmpty ? "\(file): \(problem)" : "\(file): \(place): \(problem)"
    }
}
