import BNConv
import Foundation

/// The text summary of a batch `fold`: one row per file (BatchNorms folded and kept, the
/// verification's max relative error, wall time, status, and what went wrong) and a total line.
enum BatchFoldTable {
    /// The table's lines; `outputs` says where the results went.
    static func lines(_ entries: [BatchFoldEntry], outputs: String) -> [String] {
        let header = ["file", "folded", "kept", "max rel error", "time", "status"]
        let rows = entries.map { entry -> [String] in
            let decisions = entry.summary?.batchNorms
            let folded = entry.summary.map { "\($0.folded)" } ?? "-"
            let kept = decisions.map { "\($0.count - (entry.summary?.folded ?? 0))" } ?? "-"
            var status = entry.status.text
            let tolerance = entry.summary?.verification.map { " (tolerance \(ReportText.sci($0.tolerance)))" } ?? ""
            if entry.status == .verificationFailed {
                status += tolerance
            } else if entry.status == .forced {
                status += ": written although verification failed" + tolerance
            } else if let error = entry.error, entry.status != .ok {
                status += ": " + error
            }
            return [entry.file, folded, kept, errorText(entry), String(format: "%.2f s", entry.wallSeconds), status]
        }
        let widths = (0..<header.count - 1).map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String], style: (String) -> String = { $0 }) -> String {
            var text = cells[0].padding(toLength: widths[0], withPad: " ", startingAt: 0)
            for column in 1..<cells.count - 1 {
                text += "  " + String(repeating: " ", count: widths[column] - cells[column].count) + cells[column]
            }
            return text + "  " + style(cells[cells.count - 1])
        }
        var lines = [line(header)]
        for (entry, row) in zip(entries, rows) { lines.append(line(row, style: { style(entry.status, $0) })) }
        let counts = [BatchFoldEntry.Status.ok, .forced, .verificationFailed, .error, .crashed].compactMap { status -> String? in
            let n = entries.filter { $0.status == status }.count
            return n == 0 ? nil : "\(n) \(status.text)"
        }
        let written = entries.filter { $0.summary?.output != nil }.count
        lines.append("\(entries.count) file(s): \(counts.joined(separator: ", ")); wrote \(written) \(outputs)")
        return lines
    }

    /// The verification column: the worst output's max relative error, "not verified", or
    /// "failed" when the file gave no result.
    private static func errorText(_ entry: BatchFoldEntry) -> String {
        guard let summary = entry.summary else { return "failed" }
        guard let report = summary.verification else { return "not verified" }
        return ReportText.sci(report.worst?.maxRel ?? 0)
    }

    /// The status in its colour (on a terminal).
    private static func style(_ status: BatchFoldEntry.Status, _ text: String) -> String {
        switch status {
        case .ok: Terminal.good(text)
        case .forced: Terminal.warn(text)
        case .verificationFailed, .error, .crashed: Terminal.bad(text)
        }
    }
}
