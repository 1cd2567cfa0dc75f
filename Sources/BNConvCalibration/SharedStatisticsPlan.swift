import BNConvCore
import BNConvModel

/// BatchNorm nodes that read one stored moving mean and variance (weights marked
/// ``Weight/isShared`` under the same storage keys): which of them recalibration measures, which
/// take that one's estimate, and when it cannot decide.
///
/// A TensorFlow `tf.layers` BatchNorm on a `training` flag is read from a frozen graph as two nodes
/// over the same variables: a training-mode one (the `tf.cond`'s true branch) and an inference one
/// (the false branch). As the file is read only one of them runs (the other is in the untaken
/// branch: no model output depends on it), and a training-mode BatchNorm normalizes by its batch
/// statistics whichever moving ones it is given. So the statistics have one reader, the running
/// node: they are measured at its input and stored for every node of the group.
///
/// Refused (``CalibrationError``): a group with more than one node that runs (a layer called more
/// than once: one value cannot fit each call's input), a node whose shared statistics no other
/// BatchNorm of the model explains, and a group whose node that does not run would normalize by the
/// moving statistics too (an inference-mode BatchNorm in another branch of a conditional: the
/// statistics would fit one branch's input, and which branch runs is decided when the model runs).
struct SharedStatisticsPlan {
    /// Per BatchNorm index whose statistics come from another node's measurement: that node's index.
    private(set) var followers: [Int: Int] = [:]
    /// BatchNorm indices whose statistics stay as they are (a group none of whose nodes runs).
    private(set) var untouched: Set<Int> = []

    /// Whether the BatchNorm at `index` is measured on its own input.
    func isMeasured(_ index: Int) -> Bool { followers[index] == nil && !untouched.contains(index) }

    /// The plan for `model`'s BatchNorms; throws ``CalibrationError`` for sharing it cannot resolve.
    init(model: Model) throws {
        let indices = model.batchNormIndices
        func keys(_ index: Int) -> [String]? {
            let weights = [WeightRole.movingMean, .movingVariance].compactMap { model.nodes[index].weight($0) }
            guard weights.contains(where: \.isShared) else { return nil }
            return weights.map(\.storageKey)
        }
        let shared = indices.compactMap { index in keys(index).map { (index, $0) } }
        guard !shared.isEmpty else { return }
        let needed = model.nodesTheOutputsNeed()
        var planned = Set<Int>()
        for (index, key) in shared where !planned.contains(index) {
            let group = shared.filter { $0.1 == key }.map(\.0)
            planned.formUnion(group)
            guard group.count > 1, !key.contains(where: \.isEmpty) else {
                throw CalibrationError.sharedStatistics(node: model.nodes[index].name)
            }
            let running = group.filter { needed[$0] }
            guard running.count <= 1 else { throw CalibrationError.sharedStatistics(node: model.nodes[running[0]].name) }
            guard let leader = running.first else {
                untouched.formUnion(group)
                continue
            }
            for member in group where member != leader {
                guard case .batchNorm(let bn) = model.nodes[member].op, bn.training else {
                    throw CalibrationError.statisticsSharedWithABranchNotRun(node: model.nodes[member].name,
                                                                             running: model.nodes[leader].name)
                }
                followers[member] = leader
            }
        }
    }
}
