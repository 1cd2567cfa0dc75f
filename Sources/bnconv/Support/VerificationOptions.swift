import ArgumentParser
import BNConv

/// The verification flags `fold`, `convert` and `verify` share.
struct VerificationOptions: ParsableArguments {
    @Option(name: .customLong("input"), help: ArgumentHelp("A .npy input to verify on, once per model input, in order (in addition to random samples).", valueName: "x.npy"))
    var inputs: [String] = []

    @Option(help: "Seeded random input batches to verify on.")
    var samples = 2

    @Option(help: "Batch size of each random sample.")
    var batch = 2

    @Option(help: "Seed of the first random sample.")
    var seed: UInt64 = 0

    @Option(help: "Largest accepted max|a - b| / max|a| over the outputs (range-relative; default 1e-5, or the machine epsilon of float16/bfloat16 weights).")
    var tolerance: Double?

    func validate() throws {
        guard samples >= 0, batch >= 1 else { throw ValidationError("--samples must be >= 0 and --batch >= 1") }
        if let tolerance, !(tolerance >= 0) { throw ValidationError("--tolerance must be >= 0") }
        if samples == 0 && inputs.isEmpty { throw ValidationError("nothing to verify on: give --input or --samples >= 1") }
    }

    /// Library options for verifying `candidate` against a model with `inputCount` inputs.
    func verifierOptions(inputCount: Int, candidate: Model) throws -> Verifier.Options {
        let tolerance = self.tolerance ?? DefaultTolerance.forCandidate(candidate).tolerance
        var sets: [[Tensor]] = []
        if !inputs.isEmpty {
            guard inputs.count % max(inputCount, 1) == 0 else {
                throw ValidationError("the model has \(inputCount) inputs; give --input a multiple of \(inputCount) times")
            }
            let tensors = try inputs.map { try NumPyFile.read($0, limits: CommandReadOptions.current.limits) }
            sets = stride(from: 0, to: tensors.count, by: max(inputCount, 1)).map { Array(tensors[$0..<$0 + inputCount]) }
        }
        return Verifier.Options(randomRuns: samples, batch: batch, seed: seed, tolerance: tolerance, inputs: sets)
    }
}
