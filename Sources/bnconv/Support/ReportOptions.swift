import ArgumentParser
import BNConv

/// `--report PATH`: a human-readable report (`.html` with an inline SVG plot, or `.md`).
struct ReportOptions: ParsableArguments {
    @Option(name: .customLong("report"), help: ArgumentHelp("Also write a report: per-BN table, verification, per-layer error plot, op counts, sizes.", valueName: "report.html|report.md"))
    var path: String?

    func validate() throws {
        if let path, RunReportRenderer.Kind(path: path) == nil {
            throw ValidationError("--report wants a .html or .md path, got \(path)")
        }
    }

    /// Writes `report` to the chosen path (atomically), if one was given.
    func write(_ report: RunReport) throws {
        guard let path, let kind = RunReportRenderer.Kind(path: path) else { return }
        try AtomicFile.write(Array(RunReportRenderer.render(report, as: kind).utf8), to: path)
    }
}
