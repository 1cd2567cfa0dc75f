import Foundation
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvFormats

/// The TensorFlow `tf.cond` fixtures under Tests/Fixtures/tensorflow (tools/fixtures/make_cond_fixtures.py):
/// `cond_training_flag` (tf.layers BNs on a `training` PlaceholderWithDefault(False)),
/// `cond_const_pred` (a cond on a bool Const), `cond_computed_pred` (a cond on mean(x) > 0), and
/// `cond_shared_bn` (a cond whose two branches read one inference-mode BN's statistics).
enum TensorFlowCondFixtures {
    /// The three cases of the cond tests.
    static let cases = ["cond_training_flag", "cond_const_pred", "cond_computed_pred"]
    /// The case whose two branches normalize by the same stored statistics (recalibration refuses it).
    static let sharedBatchNorm = "cond_shared_bn"
    /// The cases whose predicates are constant.
    static let constantCases = ["cond_training_flag", "cond_const_pred"]

    /// What TensorFlow said about a case's control flow (cond.json).
    struct Facts: Decodable {
        struct Switch: Decodable {
            var name: String
            var op: String
            var data: String
            var predicate: String
        }
        struct Merge: Decodable {
            var name: String
            var inputs: [String]
        }
        /// The fed input and the fetched output tensors.
        var input: String, output: String
        /// Every Switch and Merge.
        var switches: [Switch]
        var merges: [Merge]
        /// Every BatchNorm NodeDef (FusedBatchNorm*; a decomposed chain by its scope).
        var batch_norms: [String]
        /// The NodeDefs TensorFlow ran, and those it did not, computing output.npy (grappler off).
        var ran: [String]
        var not_run: [String]
        /// Other output files and the feeds they were computed with.
        var other_outputs: [String: [String: Bool]]?

        /// The output node's name.
        var outputNode: String { String(output.split(separator: ":")[0]) }
        /// The NodeDefs TensorFlow did not run, the fed input aside (its value is fed, not computed).
        var notComputed: Set<String> { Set(not_run).subtracting([String(input.split(separator: ":")[0])]) }
    }

    /// A case's cond.json.
    static func facts(_ name: String) throws -> Facts {
        try JSONDecoder().decode(Facts.self, from: Data(contentsOf: FixturePaths.url("tensorflow/\(name)/cond.json")))
    }

    /// cond_training_flag's moving statistics after cumulative recalibration on its
    /// calibration.npy, as TensorFlow measured them (recalibrated_<bn>_moving_*.npy), for every
    /// BatchNorm node of `model` (both nodes of a BN's tf.cond), by node name.
    static func recalibratedStatistics(of model: Model) throws -> [String: (mean: [Double], variance: [Double])] {
        var statistics: [String: (mean: [Double], variance: [Double])] = [:]
        for index in model.batchNormIndices {
            let name = model.nodes[index].name
            let scope = String(name.prefix { $0 != "/" })
            statistics[name] = (try NumPyFile.read(path("cond_training_flag", "recalibrated_\(scope)_moving_mean.npy")).doubles(),
                                try NumPyFile.read(path("cond_training_flag", "recalibrated_\(scope)_moving_variance.npy")).doubles())
        }
        return statistics
    }

    /// A file of a case's folder.
    static func path(_ name: String, _ file: String) -> String { FixturePaths.url("tensorflow/\(name)/\(file)").path }

    /// Each NodeDef of the GraphDef `bytes` as serialized in it, by name.
    static func nodeMessages(_ bytes: [UInt8]) throws -> [String: [UInt8]] {
        let file = try ProtobufGraphDefFile(bytes: bytes, file: "graph.pb")
        var messages = [String: [UInt8]]()
        for (k, node) in try file.nodeDefs().enumerated() { messages[node.name] = file.nodeMessage(k) }
        return messages
    }
}
