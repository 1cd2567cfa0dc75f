import Foundation
import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvEngine
import BNConvVerify

/// Runs a checkpoint on the engine: read, feed (`.npy` inputs or a seeded random batch), run,
/// time, save the outputs. A single run streams the weights (``RunOptions/streamsWeights``: memory
/// near the model's size); timed runs prepare them once.
public enum ModelRun {
    /// Carries out `request`; `progress` hears when the checkpoint has been read.
    public static func run(_ request: RunRequest, progress: RewriteProgressHandler = { _ in }) throws -> RunResult {
        let started = Date()
        let reads = [request.model] + (request.config.map { [$0] } ?? []) + request.inputFiles
        if let output = request.outputFile { try OutputGuard.check(output: output, inputs: reads) }
        // One run reads each weight once: it is read where it lies (large weights left in the file)
        // rather than prepared as a copy first. Timed runs prepare their weights once, for speed.
        let once = request.timedRuns == nil
        let model = try Checkpoint.read(request.model, config: request.config,
                                        deferringWeights: once ? WriteStrategy.defaultDeferredMinimumBytes : nil,
                                        options: request.readOptions)
        progress(.readFinished)
        let loadSeconds = Date().timeIntervalSince(started)
        var options = request.options
        if once { options.streamsWeights = true }
        let runner: ModelRunner
        do { runner = try ModelRunner(model: model, options: options) } catch let error as EngineError {
            throw InFileError(error, file: request.model)
        }
        let feeds: [Tensor]
        do {
            feeds = try request.inputFiles.isEmpty ? RandomInputs.make(for: model, batch: request.batch, seed: request.seed,
                                                                                       limit: request.readOptions.limits.maxInputValues)
                                                   : request.inputFiles.map { try NumPyFile.read($0, limits: request.readOptions.limits,
                                                                                       allowsSpecialFiles: request.readOptions.allowsSpecialFiles) }
        } catch let error as VerificationError {
            guard case .randomInputTooLarge = error else { throw error }
            throw HintedError(error, file: request.model, hint: "use a smaller --batch, or --allow-large")
        }
        let runStarted = DispatchTime.now().uptimeNanoseconds
        var results: [Tensor]
        do {
            results = try runner.run(feeds)
        } catch let error as EngineError {
            switch error {
            case .inputCount, .inputShape:
                throw HintedError(error, file: request.model, hint: "give --input once per model input, in order, shaped as declared (bnconv inspect \(request.model) shows the inputs), or leave --input out for a random input")
            default:
                throw InFileError(error, file: request.model)
            }
        }
        let firstRun = Double(DispatchTime.now().uptimeNanoseconds - runStarted) / 1e6
        var times: [Double] = []
        for _ in 0..<(request.timedRuns ?? 0) {
            let start = DispatchTime.now().uptimeNanoseconds
            results = try runner.run(feeds)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        var byOp: [String: RunResult.OpTime] = [:]
        var nodeTimes: [RunResult.NodeTime] = []
        if request.timedRuns != nil && request.options.recordsNodeTimes {
            nodeTimes = runner.lastNodeTimes.map { RunResult.NodeTime(node: $0.node, op: $0.op, shape: $0.shape, milliseconds: $0.milliseconds) }
                .sorted { $0.milliseconds > $1.milliseconds }
            for t in runner.lastNodeTimes {
                byOp[t.op, default: RunResult.OpTime(op: t.op, nodes: 0, milliseconds: 0)].nodes += 1
                byOp[t.op]!.milliseconds += t.milliseconds
            }
        }
        let paths = request.outputFile.map { RunRequest.outputPaths($0, count: results.count) }
        if let paths {
            for path in paths { try OutputGuard.check(output: path, inputs: reads) }
            for (path, tensor) in zip(paths, results) { try NumPyFile.write(tensor, to: path) }
        }
        return RunResult(request: request, format: model.format, nodeCount: model.nodes.count, inputNames: model.inputs,
                         outputNames: model.outputs, inputs: feeds, outputs: results, outputFiles: paths,
                         loadSeconds: loadSeconds, firstRunMilliseconds: firstRun, timedMilliseconds: times,
                         opTimes: byOp.values.sorted { $0.milliseconds > $1.milliseconds },
                         nodeTimes: nodeTimes, constantFolding: runner.lastRunFolding, kernelsPerRun: runner.lastRunKernels)
    }
}
