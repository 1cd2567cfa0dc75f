/// Why a checkpoint's graph could not be frozen; the reader turns it into a ``CheckpointError``
/// naming the file.
struct FreezeError: Error, CustomStringConvertible {
    /// What went wrong, naming the node or variable.
    var description: String

    /// An error saying `description`.
    init(_ description: String) { self.description = description }
}
