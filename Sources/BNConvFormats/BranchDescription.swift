import BNConvModel

/// What a format's node record tells a report about conditional control flow fixed in the file:
/// whether the node sits in a branch of a conditional whose condition is a constant (a TensorFlow
/// `tf.cond` on a constant or on a `PlaceholderWithDefault`'s default), and whether that branch is
/// the one taken. A format whose graphs hold such branches conforms its node record; `inspect`
/// asks through this protocol.
public protocol BranchDescription: SourceRecord {
    /// The branch, in words (`false branch of tf.cond 'bn/cond', taken: ...`); nil when the node
    /// sits in none.
    var branch: String? { get }
}
