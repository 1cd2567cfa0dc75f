import ArgumentParser
import BNConv
import Foundation

/// `bnconv run MODEL [--input x.npy ...] [-o y.npy] [--batch N] [--seed S] [--time]`: runs a checkpoint
/// on bnconv's own engine and prints or saves its outputs. Without `--input`, a seeded random input
/// is made from the model's declared input shape with batch `--batch`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a checkpoint on bnconv's engine and print or save its outputs."
    )

    @Argument(help: "The checkpoint (.h5, .keras, .weights.h5 with --config).")
    var model: String

    @Option(name: .customLong("input"), help: "A .npy input, once per model input, in order (float32 or converted).")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Write the output to this .npy (several outputs: NAME_0.npy, NAME_1.npy, ...).")
    var output: String?

    @Option(help: "Batch size of the random input made when no --input is given.")
    var batch = 1

    @Option(help: "Seed of the random input.")
    var seed: UInt64 = 0

    @Option(help: "The architecture for a weights-only file: model.to_json() output or a .keras file.")
    var config: String?

    @Flag(help: "Time the run: one warm-up, then --runs timed runs; prints milliseconds per run.")
    var time = false

    @Option(help: "Timed runs with --time.")
    var runs = 10

    @Flag(help: "With --time: also print the time per op kind of the last run.")
    var profile = false

    @Option(help: "Cores the engine uses (default: all).")
    var threads: Int?

    @Option(help: "Threads OpenBLAS may use inside one matrix product (default 1: the engine spreads work over the cores itself).")
    var blasThreads: Int?

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let blasThreads, blasThreads < 1 { throw ValidationError("--blas-threads must be at least 1") }
    }

    func run() throws {
        CrashGuard.install(reading: [model])
        do {
            let loaded = try Checkpoint.read(model, config: config)
            CrashGuard.readingDone()
            let runner = try ModelRunner(model: loaded, options: RunOptions(threads: threads, blasThreads: blasThreads, recordsNodeTimes: profile))
            let feeds = try inputs.isEmpty ? RandomInputs.make(for: loaded, batch: batch, seed: seed)
                                           : inputs.map { try NumPyFile.read($0) }
            var results = try runner.run(feeds)
            if time {
                var times: [Double] = []
                for _ in 0..<runs {
                    let start = DispatchTime.now().uptimeNanoseconds
                    results = try runner.run(feeds)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                print(RunTiming(milliseconds: times, batch: feeds.first?.shape.first ?? 1, blasKernels: ModelRunner.blasKernels).line)
                if profile {
                    var byOp: [String: (count: Int, ms: Double)] = [:]
                    for t in runner.lastNodeTimes { byOp[t.op, default: (0, 0)].count += 1; byOp[t.op]!.ms += t.milliseconds }
                    for (op, v) in byOp.sorted(by: { $0.value.ms > $1.value.ms }) {
                        print(String(format: "  %-24@ %4d nodes %9.2f ms", op as NSString, v.count, v.ms))
                    }
                }
            }
            if let output {
                for (path, tensor) in zip(RunCommand.outputPaths(output, count: results.count), results) {
                    try NumPyFile.write(tensor, to: path)
                }
            } else if !time {
                for (name, tensor) in zip(loaded.outputs, results) { print(RunCommand.summary(name, tensor)) }
            }
        } catch {
            FileHandle.standardError.write(Data("bnconv: error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `y.npy` for one output; `y_0.npy`, `y_1.npy`, ... for several.
    static func outputPaths(_ path: String, count: Int) -> [String] {
        guard count > 1 else { return [path] }
        let stem = path.hasSuffix(".npy") ? String(path.dropLast(4)) : path
        return (0..<count).map { "\(stem)_\($0).npy" }
    }

    /// One line per output: name, shape, range, mean and the first values.
    static func summary(_ name: String, _ tensor: Tensor) -> String {
        let v = tensor.floats()
        let mean = v.isEmpty ? 0 : v.reduce(0) { $0 + Double($1) } / Double(v.count)
        let head = v.prefix(6).map { String(format: "%.6g", $0) }.joined(separator: ", ")
        return "\(name): shape \(tensor.shape) min \(v.min() ?? 0) max \(v.max() ?? 0) mean \(String(format: "%.6g", mean)) [\(head)\(v.count > 6 ? ", ..." : "")]"
    }
}
