import BNConv
import Foundation

/// The `--json` object of `run`: the model, each input's shape and source, each output's shape,
/// range and mean (and the file it was saved to), and the timing with `--time`.
struct RunSummary: JSONSummary {
    /// One model input.
    struct Input: Encodable {
        var name: String
        var shape: [Int]
        /// The `.npy` it was read from, or nil for a random input.
        var file: String?
        /// The seed of a random input.
        var seed: UInt64?
    }

    /// One model output.
    struct Output: Encodable {
        var name: String
        var shape: [Int]
        var dtype: String
        var min: Double
        var max: Double
        var mean: Double
        /// The `.npy` it was written to, with `-o`.
        var file: String?

        init(name: String, tensor: Tensor, file: String?) {
            let values = tensor.floats()
            self.name = name
            shape = tensor.shape
            dtype = tensor.dtype.rawValue
            min = Double(values.min() ?? 0)
            max = Double(values.max() ?? 0)
            mean = values.isEmpty ? 0 : values.reduce(0) { $0 + Double($1) } / Double(values.count)
            self.file = file
        }
    }

    /// `--time`: milliseconds per timed run.
    struct Timing: Encodable {
        var batch: Int
        var runs: Int
        var medianMilliseconds: Double
        var minMilliseconds: Double
        var meanMilliseconds: Double

        init(_ timing: RunTiming) {
            let sorted = timing.milliseconds.sorted()
            batch = timing.batch
            runs = sorted.count
            medianMilliseconds = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
            minMilliseconds = sorted.first ?? 0
            meanMilliseconds = sorted.reduce(0, +) / Double(Swift.max(sorted.count, 1))
        }
    }

    /// What the last run's planning evaluated once, and the kernels the run ran.
    struct Planning: Encodable {
        /// Nodes evaluated once at planning.
        var nodesEvaluatedOnce: Int
        /// Their count per op type.
        var byOp: [String: Int]
        /// Op-library reshapes run as views of their input.
        var reshapeViews: Int
        /// Kernels the last run ran (a fused chain counts once).
        var kernelsPerRun: Int

        init(_ result: RunResult) {
            nodesEvaluatedOnce = result.constantFolding.nodes
            byOp = Dictionary(uniqueKeysWithValues: result.constantFolding.byOp.map { ($0.op, $0.nodes) })
            reshapeViews = result.constantFolding.reshapeViews
            kernelsPerRun = result.kernelsPerRun
        }
    }

    var command = "run"
    var model: String
    var format: String
    var inputs: [Input]
    var outputs: [Output]
    var timing: Timing?
    var planning: Planning

    /// The summary of a run and its `--time` figures.
    init(_ result: RunResult, timing: RunTiming?) {
        let request = result.request
        model = request.model
        format = result.format.rawValue
        inputs = zip(result.inputNames, result.inputs).enumerated().map { i, pair in
            Input(name: pair.0, shape: pair.1.shape, file: request.inputFiles.isEmpty ? nil : request.inputFiles[i],
                  seed: request.inputFiles.isEmpty ? request.seed : nil)
        }
        outputs = zip(result.outputNames, result.outputs).enumerated().map { i, pair in
            Output(name: pair.0, tensor: pair.1, file: result.outputFiles?[i])
        }
        self.timing = timing.map { Timing($0) }
        planning = Planning(result)
    }
}
