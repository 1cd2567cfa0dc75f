/// The `--json` result of a batch `fold`: one list with an object per file, in the order the
/// files were given (``BatchFoldEntry``).
struct BatchFoldList: JSONSummary {
    /// The files' objects.
    var entries: [BatchFoldEntry]

    func encode(to encoder: Encoder) throws {
        var list = encoder.unkeyedContainer()
        for entry in entries { try list.encode(entry) }
    }
}
