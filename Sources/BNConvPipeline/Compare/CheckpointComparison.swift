import Foundation
import BNConvModel
import BNConvFormats
import BNConvEngine
import BNConvVerify

/// Compares two checkpoints on the engine (`bnconv verify A B`): both read, run on the same
/// inputs, compared output by output and layer by layer.
public enum CheckpointComparison {
    /// What a comparison found.
    public struct Result: Sendable {
        /// The verification.
        public var report: VerificationReport
        /// The `--report` contents.
        public var runReport: RunReport
    }

    /// Reads `reference` and `candidate` (`config` is the architecture of weights-only files;
    /// the candidate's is `candidateConfig`, else `config`, else, when that does not describe it,
    /// the `x.json` a fold wrote beside a folded `x.weights.h5`) and compares them with `settings`;
    /// `readOptions` bound every read. Weights of
    /// `deferringWeights` bytes or more stay in their files (legacy Keras `.h5`), and the engine reads
    /// them from there at each use (``RunOptions/streamsWeights``): neither model is copied into memory.
    public static func compare(reference: String, candidate: String, config: String? = nil, candidateConfig: String? = nil,
                               settings: VerificationSettings, readOptions: ReadOptions = ReadOptions(),
                               deferringWeights: Int? = WriteStrategy.defaultDeferredMinimumBytes,
                               progress: @escaping RewriteProgressHandler = { _ in }) throws -> Result {
        let a = try Checkpoint.read(reference, config: config, deferringWeights: deferringWeights, options: readOptions)
        let b: Model
        if let candidateConfig {
            b = try Checkpoint.read(candidate, config: candidateConfig, deferringWeights: deferringWeights, options: readOptions)
        } else {
            do {
                b = try Checkpoint.read(candidate, config: config, deferringWeights: deferringWeights, options: readOptions)
            } catch {
                // A folded weights file has its own architecture beside it (the fold wrote it).
                let beside = KerasWriter.defaultConfigPath(forWeights: candidate)
                guard config != nil, beside != config, beside != candidate, FileManager.default.fileExists(atPath: beside) else { throw error }
                b = try Checkpoint.read(candidate, config: beside, deferringWeights: deferringWeights, options: readOptions)
            }
        }
        progress(.readFinished)
        let comparison = ModelComparison(settings: settings, readOptions: readOptions, progress: progress)
        let report = try comparison.compare(reference: a, candidate: b, file: "\(reference) vs \(candidate)", hint: { error in
            switch error {
            case .inputCount, .inputShape: return "the two models do not take the same inputs, so they cannot be compared"
            default: return "the engine cannot run these models, so they cannot be compared"
            }
        })
        let runReport = RunReport(command: "verify", input: reference, output: candidate, format: a.format.displayName,
                                  decisions: [], verification: report, opsBefore: RunReport.opCounts(a),
                                  opsAfter: RunReport.opCounts(b), inputBytes: OutputPath.fileSize(reference),
                                  outputBytes: OutputPath.fileSize(candidate))
        return Result(report: report, runReport: runReport)
    }
}
