import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvVerify

/// How a rewritten model is checked against its reference: seeded random batches plus the user's
/// own `.npy` inputs, and the accepted range-relative error.
public struct VerificationSettings: Sendable, Equatable {
    /// `.npy` inputs, one per model input in order (repeated for several sets).
    public var inputFiles: [String]
    /// Seeded random batches.
    public var randomRuns: Int
    /// Batch size of each random batch.
    public var batch: Int
    /// Seed of the first random batch.
    public var seed: UInt64
    /// Largest accepted `max|a - b| / max|a|`; `nil` chooses it from the candidate's weights
    /// (``DefaultTolerance``).
    public var tolerance: Double?

    /// Creates settings; the defaults are the command line's.
    public init(inputFiles: [String] = [], randomRuns: Int = 2, batch: Int = 2, seed: UInt64 = 0, tolerance: Double? = nil) {
        self.inputFiles = inputFiles
        self.randomRuns = randomRuns
        self.batch = batch
        self.seed = seed
        self.tolerance = tolerance
    }

    /// Verifier options for comparing `candidate` with a reference of `inputCount` inputs: the
    /// `.npy` files read (with `readOptions`) and grouped into input sets, the tolerance chosen when not given.
    public func verifierOptions(inputCount: Int, candidate: Model, readOptions: ReadOptions = ReadOptions()) throws -> Verifier.Options {
        let tolerance = self.tolerance ?? DefaultTolerance.forCandidate(candidate).tolerance
        var sets: [[Tensor]] = []
        if !inputFiles.isEmpty {
            guard inputFiles.count % max(inputCount, 1) == 0 else {
                throw UsageError("the model has \(inputCount) inputs; give --input a multiple of \(inputCount) times")
            }
            let tensors = try inputFiles.map { try NumPyFile.read($0, limits: readOptions.limits, allowsSpecialFiles: readOptions.allowsSpecialFiles) }
            sets = stride(from: 0, to: tensors.count, by: max(inputCount, 1)).map { Array(tensors[$0..<$0 + inputCount]) }
        }
        var options = Verifier.Options(randomRuns: randomRuns, batch: batch, seed: seed, tolerance: tolerance, inputs: sets)
        options.randomValueLimit = readOptions.limits.maxInputValues
        return options
    }
}
