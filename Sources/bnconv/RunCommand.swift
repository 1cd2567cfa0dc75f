import ArgumentParser
import BNConv
import Foundation

/// `bnconv run MODEL [--input x.npy ...] [-o y.npy] [--batch N] [--seed S] [--time]`: runs a checkpoint
/// on bnconv's own engine and prints or saves its outputs. Without `--input`, a seeded random input
/// is made from the model's declared input shape with batch `--batch`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a checkpoint on bnconv's engine and print or save its outputs.",
        discussion: """
        Without --input, a seeded random input is made from the model's declared input shape with \
        batch --batch. Each output is printed as one line (shape, range, mean, first values), or saved \
        with -o. --quiet prints only the outputs (nothing when they are saved) or the --time line; \
        --verbose adds the model, where each input came from, and load and run times.

        Example:
          bnconv run model.h5 --batch 2
          bnconv run model.onnx --input x.npy -o y.npy
          bnconv run model.h5 --time --runs 20 --profile
        """
    )

    @Argument(help: "The checkpoint: Keras .h5 / .keras / .weights.h5 (with --config), TensorFlow .pb, ONNX .onnx.")
    var model: String

    @Option(name: .customLong("input"), help: ArgumentHelp("A .npy input, once per model input, in order (float32 or converted).", valueName: "x.npy"))
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

    @Flag(help: "With --time: also print the time per op kind and the slowest nodes of the last run (--verbose: every node).")
    var profile = false

    @Option(help: "Cores the engine uses (default: all).")
    var threads: Int?

    @Option(help: "Threads OpenBLAS may use inside one matrix product (default 1: the engine spreads work over the cores itself).")
    var blasThreads: Int?

    @Flag(inversion: .prefixedNo, help: "Run channels-first 3x3 convolutions by Winograd's algorithm (--no-winograd: as direct products, for comparison).")
    var winograd = true

    @OptionGroup var inputFiles: InputFileOptions
    @OptionGroup var out: OutputOptions

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let blasThreads, blasThreads < 1 { throw ValidationError("--blas-threads must be at least 1") }
        if profile && !time { throw ValidationError("--profile goes with --time") }
    }

    func run() throws {
        CrashGuard.install(reading: [model])
        try reportingErrors {
            let options = RunOptions(threads: threads, blasThreads: blasThreads, recordsNodeTimes: profile, winograd: winograd)
            let result = try ModelRun.run(RunRequest(model: model, config: config, inputFiles: inputs, batch: batch, seed: seed,
                                                     options: options, timedRuns: time ? runs : nil, outputFile: output,
                                                     readOptions: inputFiles.readOptions),
                                          progress: ProgressReporter(quiet: true).handler)
            let timing = time ? RunTiming(milliseconds: result.timedMilliseconds, batch: result.inputs.first?.shape.first ?? 1,
                                          blasKernels: ModelRunner.blasKernels) : nil
            if out.json {
                print(try RunSummary(result, timing: timing).jsonText())
                return
            }
            if out.verbose {
                print("\(model): \(result.format.displayName), \(result.nodeCount) nodes, loaded in \(String(format: "%.3f", result.loadSeconds)) s")
                for (i, (name, feed)) in zip(result.inputNames, result.inputs).enumerated() {
                    let source = inputs.isEmpty ? "random, seed \(seed)" : inputs[i]
                    print("input \(name): shape \(feed.shape) \(feed.dtype.rawValue) (\(source))")
                }
                print(String(format: "first run: %.2f ms", result.firstRunMilliseconds))
            }
            if let timing {
                print(timing.line)
                if !out.quiet {
                    for t in result.opTimes { print(String(format: "  %-24@ %4d nodes %9.2f ms", t.op as NSString, t.nodes, t.milliseconds)) }
                    if profile {
                        print("  " + RunCommand.planning(result))
                        let shown = out.verbose ? result.nodeTimes : Array(result.nodeTimes.prefix(RunCommand.slowestShown))
                        print(out.verbose ? "  every node, slowest first:" : "  slowest nodes (--verbose: all):")
                        for t in shown {
                            print(String(format: "  %9.3f ms  %-18@ %@ -> %@", t.milliseconds, t.op as NSString, t.node as NSString,
                                         "\(t.shape)" as NSString))
                        }
                    }
                }
            }
            if let paths = result.outputFiles {
                if out.printsText {
                    for (path, tensor) in zip(paths, result.outputs) { print("wrote \(path): shape \(tensor.shape) \(tensor.dtype.rawValue)") }
                }
            } else if !time || out.verbose {
                for (name, tensor) in zip(result.outputNames, result.outputs) { print(RunCommand.summary(name, tensor)) }
            }
        }
    }

    /// Slowest nodes `--profile` lists without `--verbose`.
    static let slowestShown = 12

    /// `12 nodes evaluated once at planning (Shape 4, Gather 4, ...), 6 reshapes as views, 540 kernels per run`.
    static func planning(_ result: RunResult) -> String {
        let folding = result.constantFolding
        let kinds = folding.byOp.map { "\($0.op) \($0.nodes)" }.joined(separator: ", ")
        return "\(folding.nodes) node\(folding.nodes == 1 ? "" : "s") evaluated once at planning"
            + (kinds.isEmpty ? "" : " (\(kinds))")
            + (folding.reshapeViews > 0 ? ", \(folding.reshapeViews) reshape\(folding.reshapeViews == 1 ? "" : "s") as views" : "")
            + ", \(result.kernelsPerRun) kernels per run"
    }

    /// One line per output: name, shape, range, mean and the first values.
    static func summary(_ name: String, _ tensor: Tensor) -> String {
        let v = tensor.floats()
        let mean = v.isEmpty ? 0 : v.reduce(0) { $0 + Double($1) } / Double(v.count)
        let head = v.prefix(6).map { String(format: "%.6g", $0) }.joined(separator: ", ")
        return "\(name): shape \(tensor.shape) min \(v.min() ?? 0) max \(v.max() ?? 0) mean \(String(format: "%.6g", mean)) [\(head)\(v.count > 6 ? ", ..." : "")]"
    }
}
