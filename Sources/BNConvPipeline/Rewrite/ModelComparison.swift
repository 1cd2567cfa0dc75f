import BNConvCore
import BNConvModel
import BNConvEngine
import BNConvFormats
import BNConvVerify

/// Runs the ``Verifier`` with ``VerificationSettings`` and progress events, turning an engine
/// failure into an error that says what the user can do.
struct ModelComparison {
    /// The settings.
    var settings: VerificationSettings
    /// What reading the `.npy` inputs may allocate.
    var readOptions: ReadOptions
    /// Where progress goes.
    var progress: RewriteProgressHandler

    /// Compares `candidate` with `reference`. `boundary` feeds the candidate transposed inputs and
    /// transposes its outputs back; `toleranceModel` chooses the default tolerance (the candidate
    /// by default); an engine failure for which `hint` has advice becomes a ``HintedError`` on
    /// `file` (others are thrown as they are).
    /// Each of `folds` is checked on its own first (``FoldChecker``); when the engine cannot run
    /// the whole models but ran every fold's layers, the report rests on those checks and says why.
    func compare(reference: Model, candidate: Model, foldMap: [String: String]? = nil, boundary: LayoutBoundary? = nil,
                 compareLayers: Bool = true, toleranceModel: Model? = nil, stage: String = "verify", folds: [FoldToCheck] = [],
                 file: String, hint: (EngineError) -> String?) throws -> VerificationReport {
        var options = try settings.verifierOptions(inputCount: reference.inputs.count, candidate: toleranceModel ?? candidate,
                                                   readOptions: readOptions)
        options.compareLayers = compareLayers
        if let boundary {
            options.inputPermutations = boundary.inputs
            options.outputPermutations = boundary.outputs
        }
        progress(.started(stage: stage, total: options.randomRuns + options.inputs.count, unit: "runs"))
        defer { progress(.finished) }
        do {
            var report = try Verifier(options: options).compare(reference: reference, candidate: candidate, foldMap: foldMap,
                                                                 progress: { done, _ in progress(.advanced(done: done, total: nil)) })
            // Each fold's check comes from the whole-model run where it compared the fold's value.
            report.foldChecks = FoldChecker.check(folds, reference: reference, candidate: candidate, within: report,
                                                  foldMap: foldMap, seed: options.seed)
            return report
        } catch let error as EngineError {
            let checks = folds.isEmpty ? [] : FoldChecker.check(folds, reference: reference, candidate: candidate, seed: options.seed)
            var lacksAnOp = false
            switch error {
            case .unsupportedOp, .notSupported: lacksAnOp = true
            default: break
            }
            if lacksAnOp, !checks.isEmpty, checks.allSatisfy({ $0.error != nil }) {
                // The engine lacks an op of the whole model; each fold's own layers ran. (A model
                // that cannot run for its sizes or values stays an error.)
                var report = VerificationReport(runs: 0, tolerance: options.tolerance, outputs: [], layers: [], firstDivergence: nil)
                report.foldChecks = checks
                report.wholeModelNotRun = "\(error)"
                return report
            }
            guard let advice = hint(error) else { throw error }
            throw HintedError(error, file: file, hint: advice)
        } catch let error as VerificationError {
            guard case .randomInputTooLarge = error else { throw error }
            throw HintedError(error, file: file, hint: "use a smaller --batch, or --allow-large")
        }
    }
}
