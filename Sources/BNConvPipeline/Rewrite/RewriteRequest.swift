import BNConvFormats

/// Everything one rewrite of a checkpoint needs: what to read, which passes to run, how to verify,
/// when to write and how. ``RewritePipeline/run(_:progress:)`` carries it out; `fold`, `convert`
/// and `recalibrate` on the command line each fill one in.
public struct RewriteRequest: Sendable {
    /// The checkpoint to read.
    public var input: String
    /// The architecture of a weights-only input (`model.to_json()` output or a `.keras`).
    public var config: String?
    /// Where to write. It may be ``input`` itself only with ``replacesInput``.
    public var output: String
    /// Whether the output replaces the input (written beside it, then renamed over it).
    public var replacesInput: Bool
    /// Whether training-mode BatchNorms that store statistics are switched to inference first
    /// (the switched model is also the reference verification compares against).
    public var assumeInference: Bool
    /// Moving statistics re-estimated from sample data first (the recalibrated model is the reference).
    public var recalibration: RecalibrationSettings?
    /// Whether every foldable BatchNorm is folded.
    public var fold: Bool
    /// BatchNorms kept whatever the planner says (each must name a layer of the model).
    public var keep: Set<String>
    /// What the model becomes besides folded (`nil`: the input's format and layout).
    public var conversion: RewriteConversion?
    /// How the result is checked against the reference; `nil` writes without checking.
    public var verification: VerificationSettings?
    /// Whether the output is written even when verification fails.
    public var force: Bool
    /// How weights move from input to output (``WriteStrategy/streaming(deferredMinimumBytes:)``
    /// only applies when ``verification`` is `nil`).
    public var strategy: WriteStrategy
    /// What the reads (the checkpoint, `.npy` inputs and data) may allocate.
    public var readOptions: ReadOptions

    /// Creates a request; by default it folds, verifies with the default settings and writes in memory.
    public init(input: String, config: String? = nil, output: String, replacesInput: Bool = false,
                assumeInference: Bool = false, recalibration: RecalibrationSettings? = nil, fold: Bool = true,
                keep: Set<String> = [], conversion: RewriteConversion? = nil,
                verification: VerificationSettings? = VerificationSettings(), force: Bool = false,
                strategy: WriteStrategy = .inMemory, readOptions: ReadOptions = ReadOptions()) {
        self.input = input
        self.config = config
        self.output = output
        self.replacesInput = replacesInput
        self.assumeInference = assumeInference
        self.recalibration = recalibration
        self.fold = fold
        self.keep = keep
        self.conversion = conversion
        self.verification = verification
        self.force = force
        self.strategy = strategy
        self.readOptions = readOptions
    }

    /// Every file the rewrite reads: the checkpoint (when `includingModel`), its architecture, the
    /// verification inputs and the calibration data.
    public func readFiles(includingModel: Bool) -> [String] {
        (includingModel ? [input] : []) + (config.map { [$0] } ?? []) + (verification?.inputFiles ?? [])
            + (recalibration?.dataFiles ?? [])
    }

    /// The command-line verb this request stands for, used in hints (`fold`, `convert`, `recalibrate`).
    public var verb: String {
        if conversion != nil { return "convert" }
        return recalibration != nil ? "recalibrate" : "fold"
    }
}
