/// Why the stored bytes of a DT_STRING tensor could not be decoded (``TensorBundleStrings``), in
/// words; the reader adds the file and the key.
struct TensorBundleStringsProblem: Error {
    /// What is wrong.
    var problem: String

    /// A problem described by `problem`.
    init(_ problem: String) { self.problem = problem }
}
