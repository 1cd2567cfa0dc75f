/// A BatchNorm of a training graph that normalizes by the batch's own statistics, and the
/// variables its update ops keep as moving statistics.
struct BatchStatistics: Sendable, Equatable {
    /// The node normalizing: a `FusedBatchNorm*` with `is_training` true, or the node reading a
    /// batch moment (`tf.nn.moments` feeding `tf.nn.batch_normalization`).
    var node: String
    /// The batch-statistic tensors and the moving variable each one's update op maintains
    /// (nil when no update op was found).
    var statistics: [(tensor: String, movingVariable: String?)]

    static func == (a: BatchStatistics, b: BatchStatistics) -> Bool {
        a.node == b.node && a.statistics.elementsEqual(b.statistics) { $0.tensor == $1.tensor && $0.movingVariable == $1.movingVariable }
    }

    /// One line for a user: what normalizes by batch statistics and what would replace them.
    var description: String {
        let pairs = statistics.map { s in s.movingVariable.map { "'\(s.tensor)' (moving: '\($0)')" } ?? "'\(s.tensor)' (no moving variable found)" }
        return "'\(node)' normalizes by batch statistics \(pairs.joined(separator: ", "))"
    }
}
