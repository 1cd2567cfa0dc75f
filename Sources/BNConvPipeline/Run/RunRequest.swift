import BNConvEngine
import BNConvFormats

/// One run of a checkpoint on the engine: the model, its inputs (`.npy` files, or a seeded random
/// batch made from the declared input shapes), how to run it, and where the outputs go.
public struct RunRequest: Sendable {
    /// The checkpoint.
    public var model: String
    /// The architecture of a weights-only checkpoint.
    public var config: String?
    /// `.npy` inputs, one per model input in order; empty for a random input.
    public var inputFiles: [String]
    /// Batch size of the random input.
    public var batch: Int
    /// Seed of the random input.
    public var seed: UInt64
    /// Engine options (threads, BLAS threads, per-node timing, Winograd).
    public var options: RunOptions
    /// Timed runs after the first (`nil`: no timing).
    public var timedRuns: Int?
    /// Where the outputs are saved as `.npy` (several outputs: `NAME_0.npy`, ...); `nil` keeps them.
    public var outputFile: String?
    /// What reading the checkpoint and the inputs may allocate.
    public var readOptions: ReadOptions

    /// Creates a request.
    public init(model: String, config: String? = nil, inputFiles: [String] = [], batch: Int = 1, seed: UInt64 = 0,
                options: RunOptions = RunOptions(), timedRuns: Int? = nil, outputFile: String? = nil,
                readOptions: ReadOptions = ReadOptions()) {
        self.model = model
        self.config = config
        self.inputFiles = inputFiles
        self.batch = batch
        self.seed = seed
        self.options = options
        self.timedRuns = timedRuns
        self.outputFile = outputFile
        self.readOptions = readOptions
    }

    /// `y.npy` for one output; `y_0.npy`, `y_1.npy`, ... for several.
    public static func outputPaths(_ path: String, count: Int) -> [String] {
        guard count > 1 else { return [path] }
        let stem = path.hasSuffix(".npy") ? String(path.dropLast(4)) : path
        return (0..<count).map { "\(stem)_\($0).npy" }
    }
}
