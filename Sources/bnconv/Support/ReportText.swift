import BNConv
import Foundation

/// Text renderings of library reports, shared by the subcommands.
enum ReportText {
    /// A number in compact scientific form ("2.4e-07").
    static func sci(_ x: Double) -> String { CompactNumber.scientific(x) }

    /// One row per BatchNorm: folded into what, or kept and why.
    static func decisions(_ decisions: [FoldDecision]) -> [String] {
        guard !decisions.isEmpty else { return ["  (no BatchNormalization layers)"] }
        let width = min(max(decisions.map(\.batchNorm.count).max() ?? 0, 9), 40)
        return decisions.map { d in
            let name = d.batchNorm.padding(toLength: max(width, d.batchNorm.count), withPad: " ", startingAt: 0)
            if let target = d.target {
                let how = d.direction == .intoConsumer ? "folded into the next layer" : "folded into"
                return "  \(name)  \(Terminal.good(how)) \(target) (\(d.targetOp ?? "?"))"
            }
            return "  \(name)  \(Terminal.warn("kept")): \(d.reason ?? "")"
        }
    }

    /// One line per BatchNorm warning (``BatchNormDiagnosis``): `  warning [code]: message`.
    static func warnings(_ warnings: [BatchNormWarning]) -> [String] {
        warnings.map { "  " + Terminal.warn("warning [\($0.code.rawValue)]") + ": " + $0.message }
    }

    /// One fold checked on its own (``FoldCheck``): its error against the float64 reference and the
    /// original layers' own float32 error there, or the float32 comparison it fell back to and why.
    static func foldCheck(_ check: FoldCheck, tolerance: Double) -> String {
        let fold = "  fold \(check.batchNorm) -> \(check.target)"
        if let skipped = check.skipped { return "\(fold) not checked on its own: \(skipped)" }
        if let error = check.referenceError, let floor = check.noiseFloor {
            var line = "\(fold) checked on its own against a float64 reference: max rel \(sci(error.maxRel))"
                + " (the original layers in float32: \(sci(floor.maxRel)))"
            if error.maxRel > tolerance && tolerance == 0 {
                line += "; a tolerance of 0 forgives no float32 rounding"
            } else if error.maxRel > tolerance {
                let multiple = String(format: "%g", FoldCheck.noiseMultiple)
                line += check.agrees(tolerance: tolerance)
                    ? "; beyond the range tolerance but within \(multiple)x the original layers' own float32 error (max abs \(sci(error.maxAbs)) vs \(sci(floor.maxAbs)))"
                    : "; also beyond \(multiple)x the original layers' own float32 error (max abs \(sci(error.maxAbs)) vs \(sci(floor.maxAbs)))"
            }
            return line
        }
        let how = check.inModel ? "checked in the model" : "checked on its own against the original layers in float32"
        let why = check.referenceSkipped.map { " (no float64 reference: \($0))" } ?? ""
        return "\(fold) \(how): max rel \(sci(check.error?.maxRel ?? 0))\(why)"
    }

    /// The verification summary, and the per-output lines when verbose or failing.
    static func verification(_ report: VerificationReport, verbose: Bool) -> [String] {
        let worst = report.worst
        let status = report.passed ? Terminal.good("PASS") : Terminal.bad("FAIL")
        let checked = report.foldChecks.compactMap(\.judgedError)
        let worstCheck = checked.map(\.maxRel).max() ?? 0
        var lines: [String]
        if let reason = report.wholeModelNotRun {
            lines = ["verify: each of \(checked.count) fold(s) checked on its own: max rel error \(sci(worstCheck)) (tolerance \(sci(report.tolerance))): \(status)",
                     "  the whole model was not run: \(reason)"]
        } else {
            lines = ["verify: \(report.runs) run(s): max abs error \(sci(worst?.maxAbs ?? 0)), max rel error \(sci(worst?.maxRel ?? 0)), cosine \(String(format: "%.9f", worst?.cosine ?? 1)) (tolerance \(sci(report.tolerance))): \(status)"]
        }
        for check in report.foldChecks
        where verbose || check.skipped != nil || check.referenceSkipped != nil || !check.agrees(tolerance: report.tolerance) {
            lines.append(foldCheck(check, tolerance: report.tolerance))
        }
        let judgedByNoise = report.outputs.contains { $0.noiseFloor != nil }
        if verbose || !report.passed || report.outputs.count > 1 || judgedByNoise {
            for o in report.outputs {
                var line = "  output \(o.name) \(o.shape): max abs \(sci(o.error.maxAbs)), max rel \(sci(o.error.maxRel)), cosine \(String(format: "%.9f", o.error.cosine))"
                if let floor = o.noiseFloor {
                    let multiple = String(format: "%g", Verifier.noiseMultiple * report.tolerance / DefaultTolerance.baseline)
                    // The range is tiny next to the rounding noise upstream (a saturated sigmoid, say).
                    line += o.agrees(tolerance: report.tolerance)
                        ? "; beyond the range tolerance but within \(multiple)x the original's own float32 noise (\(sci(floor)))"
                        : "; also beyond \(multiple)x the original's own float32 noise (\(sci(floor)))"
                }
                lines.append(line)
            }
        }
        if let d = report.firstDivergence {
            lines.append("  first divergence: \(d.node) (value \(d.value)): max rel \(sci(d.error.maxRel)), max abs \(sci(d.error.maxAbs))")
        }
        if verbose {
            for l in report.layers {
                lines.append("  layer \(l.node): max rel \(sci(l.error.maxRel))")
            }
        }
        return lines
    }
}
