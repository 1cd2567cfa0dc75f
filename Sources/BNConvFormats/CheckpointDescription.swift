import BNConvModel

/// What a format's whole-file record tells a report about the file beyond the ``Model`` (which
/// framework wrote it, in which config dialect). A format whose files say such things conforms
/// its model record; reports (`CheckpointSummary`) ask through this protocol and never look for
/// a particular format.
public protocol CheckpointDescription: SourceRecord {
    /// The framework that wrote the file (`Keras`), when the format tells.
    var framework: String? { get }
    /// The framework's version the file names, if any.
    var frameworkVersion: String? { get }
    /// The dialect the file's architecture is written in (`keras2`, `keras3`), for formats that
    /// have several.
    var configDialect: String? { get }
}
