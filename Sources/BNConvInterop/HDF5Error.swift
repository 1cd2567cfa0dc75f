import BNConvCore

/// A failed libhdf5 call: which file, which object in it, what bnconv was doing, and HDF5's own
/// message (taken from its error stack, which is never printed).
///
/// The Formats layer maps it to ``CheckpointError`` (see `HDF5Error.checkpointError`).
public struct HDF5Error: Error, Equatable, CustomStringConvertible {
    /// The file's path (or the in-memory image's name).
    public var file: String
    /// The HDF5 object path inside the file (`/model_weights/bn`), or empty for the file itself.
    public var path: String
    /// What was being done (`open dataset 'bn/gamma:0'`).
    public var operation: String
    /// HDF5's error stack as one line, or bnconv's own explanation when HDF5 raised nothing.
    public var message: String

    /// Creates an error.
    public init(file: String, path: String, operation: String, message: String) {
        self.file = file
        self.path = path
        self.operation = operation
        self.message = message
    }

    /// `file: path: cannot <operation>: <message>`.
    public var description: String {
        let place = path.isEmpty ? "" : "\(path): "
        return "\(file): \(place)cannot \(operation)" + (message.isEmpty ? "" : ": \(message)")
    }
}
