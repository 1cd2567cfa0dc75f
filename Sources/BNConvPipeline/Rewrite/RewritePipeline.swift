import Foundation
import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvPasses
import BNConvEngine
import BNConvVerify
import BNConvCalibration

/// The one path every rewriting command takes: read -> passes -> verify -> gate -> atomic write.
///
/// 1. **Read** the input (``Checkpoint/read(_:config:deferringWeights:options:)``); with
///    ``WriteStrategy/streaming(deferredMinimumBytes:)`` and no layout conversion, large weights stay
///    in the file (verification then reads them from there).
/// 2. **Reference passes**: assume inference, recalibrate. The model they give is the reference.
/// 3. **Candidate passes**: fold (``FoldBatchNorm``), then convert (``ConvertLayout``, ONNX or
///    PyTorch export).
/// 4. **Verify** the candidate against the reference on the engine (``Verifier``), unless the
///    request has no verification settings.
/// 5. **Gate**: write only when verification passed or was skipped, or with `force`.
/// 6. **Write** atomically: beside the target, then renamed over it (``AtomicFile``), in the
///    input's format (an unchanged model is copied byte for byte), as a new ONNX model or state
///    dict, or, for a layout change in the input's own format, staged, read back and checked first.
///
/// A failed verification is not an error: the result says it (``RewriteResult/passed``) and
/// nothing is written without `force`.
public enum RewritePipeline {
    /// Carries out `request`, reporting each stage to `progress`.
    public static func run(_ request: RewriteRequest, progress: @escaping RewriteProgressHandler = { _ in }) throws -> RewriteResult {
        let started = Date()
        try OutputGuard.check(output: request.output, inputs: request.readFiles(includingModel: !request.replacesInput))
        if !request.replacesInput { AtomicFile.prepareToReplace(request.output) }
        var checksKernelsWhenWritten = request.verification == nil && request.strategy != .inMemory && request.conversion == nil
        while true {
            do {
                return try attempt(request, started: started, checksKernelsWhenWritten: checksKernelsWhenWritten, progress: progress)
            } catch FoldError.nonFiniteKernel where checksKernelsWhenWritten {
                // A folded kernel checked as it was written holds NaN or infinity: read and plan
                // again with every check made first (the planner then keeps that BN and says why).
                checksKernelsWhenWritten = false
            }
        }
    }

    /// One pass through the stages; `checksKernelsWhenWritten` leaves the NaN check of deferred
    /// kernels to the writer (streaming only).
    private static func attempt(_ request: RewriteRequest, started: Date, checksKernelsWhenWritten: Bool,
                                progress: @escaping RewriteProgressHandler) throws -> RewriteResult {
        let comparison = request.verification.map { ModelComparison(settings: $0, readOptions: request.readOptions, progress: progress) }
        // 1. Read.
        var deferral: Int?
        // A fold verifies on models whose weights stay in the file too (the engine streams them).
        if comparison == nil || request.conversion == nil, case .streaming(let minimum) = request.strategy { deferral = minimum }
        var readOptions = request.readOptions
        if request.assumeInference { readOptions.tensorFlow.assumeInference = true }
        var loaded = try Checkpoint.read(request.input, config: request.config, deferringWeights: deferral, options: readOptions)
        progress(.readFinished)
        if let freezing = (loaded.source as? GraphDefSource)?.freezing, !freezing.batchStatistics.isEmpty {
            // A training graph's BNs normalize by the batch: frozen as they are, every prediction
            // at batch size 1 would be the same.
            throw CheckpointError(.unsupported, file: request.input, problem:
                "the graph normalizes by batch statistics, as a training graph does: \(freezing.batchStatistics.joined(separator: "; ")); "
                + "give an inference graph (--meta FILE), or --assume-inference to use the moving statistics its update ops maintain")
        }
        if request.conversion != nil {
            // Undeclared input layouts come from the ops reading them, so the boundary is never guessed.
            loaded = BoundaryLayouts.annotated(loaded)
        }
        let format = loaded.format, inputNames = loaded.inputs, outputNames = loaded.outputs
        var writesOwnFormat = request.conversion == nil
        if case .layout? = request.conversion { writesOwnFormat = true }
        if format.isWeightsOnly && writesOwnFormat {
            // The folded architecture is written beside folded weights (`x.weights.h5` -> `x.json`).
            try OutputGuard.check(output: KerasWriter.defaultConfigPath(forWeights: request.output),
                                  inputs: request.readFiles(includingModel: true))
        }
        if request.fold {
            let unknown = request.keep.subtracting(loaded.nodes.map(\.name))
            if !unknown.isEmpty {
                throw UsageError("--keep names no layer of \(request.input): \(unknown.sorted().joined(separator: ", ")) (bnconv inspect \(request.input) lists its BatchNorm layers)")
            }
        }

        // 2. Reference passes.
        var assumed: [String] = []
        if request.assumeInference {
            (loaded, assumed) = AssumeInference.apply(to: loaded)
        }
        var recalibration: RewriteResult.Recalibration?
        if let settings = request.recalibration {
            let outcome = try recalibrate(loaded, settings, file: request.input, readOptions: request.readOptions, progress: progress)
            loaded = outcome.model
            recalibration = outcome.summary
        }
        let opsBefore = RunReport.opCounts(loaded)
        // Warnings about the BNs about to fold (stale or damaged statistics, half-precision overflow).
        let warnings = request.fold ? BatchNormDiagnosis(model: loaded).warnings() : []

        // 3. Candidate passes. Without verification the reference is handed over, so each replaced
        // kernel is freed as soon as its folded copy exists.
        let reference: Model? = comparison == nil ? nil : loaded
        let original: Model? = request.conversion == nil ? nil : loaded
        var decisions: [FoldDecision] = []
        var foldMap: [String: String]?
        var changed = !assumed.isEmpty || recalibration != nil
        let source: Model
        if request.fold {
            let folded = try FoldBatchNorm(keep: request.keep, checksDeferredKernelsWhenWritten: checksKernelsWhenWritten)
                .apply(to: consume loaded)
            decisions = folded.decisions
            foldMap = folded.valueMap
            changed = changed || folded.changed
            source = folded.model
        } else {
            source = consume loaded
        }
        let passSeconds = Date().timeIntervalSince(started)
        if request.fold && !changed && request.conversion == nil {
            // Nothing to fold (no BatchNorm, or every one kept with its reason): nothing to verify
            // and nothing to write; the caller says so.
            return RewriteResult(request: request, format: format, inputNames: inputNames, outputNames: outputNames,
                                 decisions: decisions, assumedInference: assumed, warnings: warnings, recalibration: recalibration,
                                 conversion: nil, verification: nil, written: false,
                                 opsBefore: opsBefore, opsAfter: opsBefore,
                                 inputBytes: OutputPath.fileSize(request.input), outputBytes: nil,
                                 passSeconds: passSeconds, seconds: Date().timeIntervalSince(started))
        }
        let output: ConvertedOutput
        do {
            output = try ConvertedOutput.make(source, original: original, request: request)
        } catch let refusal as LayoutConversionError {
            // The layout pass names the node; the message names the file too.
            throw CheckpointError(.unsupported, file: request.input, problem: "\(refusal)")
        }

        // 4. Verify.
        let verb = request.verb
        let report = try reference.flatMap { reference in
            try comparison?.compare(reference: reference, candidate: output.candidate, foldMap: foldMap,
                                    boundary: output.conversion?.boundary,
                                    compareLayers: output.conversion.map { _ in !output.layoutChanged } ?? true,
                                    toleranceModel: request.conversion == nil ? nil : source,
                                    folds: request.conversion == nil ? decisions.compactMap { d in
                                        d.target.map { FoldToCheck(batchNorm: d.batchNorm, target: $0, intoProducer: d.direction != .intoConsumer) }
                                    } : [],
                                    file: request.input,
                                    hint: { _ in request.recalibration != nil ? nil : "the engine cannot verify this model; rerun with --no-verify to \(verb) without verification" })
        }

        // 5. Gate and 6. write.
        let written = (report?.passed ?? true) || request.force
        if written {
            if let commit = output.commit {
                try commit(comparison)
            } else if changed {
                try Checkpoint.write(output.candidate, to: request.output)
            } else if !request.replacesInput {
                // Nothing changed: the file is copied byte for byte (a weights-only file then goes
                // with the architecture it was read with).
                try AtomicFile.copy(from: request.input, to: request.output)
            }
        }
        return RewriteResult(request: request, format: format, inputNames: inputNames, outputNames: outputNames,
                             decisions: decisions, assumedInference: assumed, warnings: warnings, recalibration: recalibration,
                             conversion: output.conversion, verification: report, written: written,
                             opsBefore: opsBefore, opsAfter: RunReport.opCounts(output.candidate),
                             inputBytes: OutputPath.fileSize(request.input),
                             outputBytes: written ? OutputPath.fileSize(request.output) : nil,
                             passSeconds: passSeconds, seconds: Date().timeIntervalSince(started))
    }

    /// Recalibrates `model` from the request's sample data; errors name the data files or the model.
    private static func recalibrate(_ model: Model, _ settings: RecalibrationSettings, file: String, readOptions: ReadOptions,
                                    progress: @escaping RewriteProgressHandler) throws -> (model: Model, summary: RewriteResult.Recalibration) {
        func located(_ error: CalibrationError) -> CheckpointError {
            switch error {
            case .noData, .badData, .inputMismatch:
                return CheckpointError(.unsupported, file: settings.dataFiles.joined(separator: ", "), problem: error.description)
            case .noBatchNorm, .sharedStatistics:
                return CheckpointError(.unsupported, file: file, problem: error.description)
            case .statisticsSharedWithABranchNotRun(let node, let running):
                // The format's own words for the two branches (a TensorFlow tf.cond's), when it has them.
                let branches = [node, running].compactMap { name in
                    model.node(named: name).flatMap { ($0.source as? any BranchDescription)?.branch }.map { "'\(name)': \($0)" }
                }
                let detail = branches.isEmpty ? "" : " (" + branches.joined(separator: "; ") + ")"
                return CheckpointError(.unsupported, file: file, problem: error.description + detail)
            }
        }
        let samples: CalibrationSet
        do {
            samples = try CalibrationSet(files: settings.dataFiles, for: model, options: readOptions)
        } catch let error as CalibrationError {
            throw located(error)
        }
        let rule = settings.convention ?? .of(model)
        let recalibrator = Recalibrator(mode: settings.mode, batchSize: settings.batchSize, convention: rule)
        progress(.started(stage: "recalibrate", total: 1, unit: "samples"))
        defer { progress(.finished) }
        let started = Date()
        let result: RecalibrationResult
        do {
            result = try recalibrator.apply(to: model, data: samples, progress: { done, total in progress(.advanced(done: done, total: total)) })
        } catch let error as CalibrationError {
            throw located(error)
        } catch let error as EngineError {
            throw HintedError(error, file: file, hint: "the engine cannot run this model, so it cannot be recalibrated")
        }
        return (result.model, RewriteResult.Recalibration(drift: result.drift, passes: result.passes, samplesRun: result.samplesRun,
                                                           sampleCount: samples.sampleCount, convention: rule,
                                                           seconds: Date().timeIntervalSince(started)))
    }
}
