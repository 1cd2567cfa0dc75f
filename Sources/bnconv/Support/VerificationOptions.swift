import ArgumentParser
import BNConv

/// The verification flags `fold`, `convert` and `verify` share.
struct VerificationOptions: ParsableArguments {
    @Option(name: .customLong("input"), help: ArgumentHelp("A .npy input to verify on, once per model input, in order (in addition to random samples).", valueName: "x.npy"))
    var inputs: [String] = []

    @Option(help: "Seeded random input batches to verify on (each a run of both models; one batch of two inputs already reaches every channel of every layer at every position).")
    var samples = 1

    @Option(help: "Batch size of each random sample.")
    var batch = 2

    @Option(help: "Seed of the first random sample.")
    var seed: UInt64 = 0

    @Option(help: "Largest accepted max|a - b| / max|a| over the outputs (range-relative; default 1e-5, or the machine epsilon of float16/bfloat16 weights).")
    var tolerance: Double?

    /// The most random samples one command verifies on.
    static let maximumSamples = 10_000

    func validate() throws {
        guard samples >= 0, batch >= 1 else { throw ValidationError("--samples must be >= 0 and --batch >= 1") }
        guard samples <= VerificationOptions.maximumSamples else {
            throw ValidationError("--samples must be at most \(VerificationOptions.maximumSamples) (each sample is one run of both models)")
        }
        if let tolerance, !(tolerance >= 0) { throw ValidationError("--tolerance must be >= 0") }
        if samples == 0 && inputs.isEmpty { throw ValidationError("nothing to verify on: give --input or --samples >= 1") }
    }

    /// These options as arguments of a child process (`--name=value`, so that no value is taken
    /// for an option).
    var childArguments: [String] {
        inputs.map { "--input=\($0)" } + ["--samples=\(samples)", "--batch=\(batch)", "--seed=\(seed)"]
            + (tolerance.map { ["--tolerance=\($0)"] } ?? [])
    }

    /// The library's verification settings for these flags.
    var settings: VerificationSettings {
        VerificationSettings(inputFiles: inputs, randomRuns: samples, batch: batch, seed: seed, tolerance: tolerance)
    }
}
