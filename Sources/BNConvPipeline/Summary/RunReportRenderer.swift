import Foundation
import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvPasses
import BNConvEngine
import BNConvVerify
import BNConvCalibration

/// Renders a ``RunReport`` as a self-contained HTML page (table, verification summary, an inline
/// SVG plot of the per-layer error) or as Markdown (the same, with the plot as a table of the worst
/// layers).
public enum RunReportRenderer {
    /// The output kind, from a file extension.
    public enum Kind: String, Sendable {
        /// `.html`
        case html
        /// `.md`
        case markdown

        /// The kind for `path`'s extension, or `nil` when it is neither `.html`/`.htm` nor `.md`.
        public init?(path: String) {
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "html", "htm": self = .html
            case "md", "markdown": self = .markdown
            default: return nil
            }
        }
    }

    /// The report as text of `kind`.
    public static func render(_ report: RunReport, as kind: Kind) -> String {
        kind == .html ? html(report) : markdown(report)
    }

    /// HTML-escapes text.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func sci(_ v: Double) -> String { v.isFinite ? String(format: "%.2e", v) : (v.isNaN ? "nan" : "inf") }

    private static func size(_ bytes: Int?) -> String {
        bytes.map { ByteCountFormatter.string(fromByteCount: Int64($0), countStyle: .file) } ?? "-"
    }

    private static func plot(_ report: RunReport) -> ErrorPlot? {
        guard let v = report.verification, !v.layers.isEmpty else { return nil }
        let targets = Set(report.decisions.compactMap(\.target))
        return ErrorPlot(points: v.layers.map { .init(label: $0.node, error: $0.error.maxRel, folded: targets.contains($0.node)) },
                         tolerance: v.tolerance)
    }

    private static func opRows(_ report: RunReport) -> [(String, Int, Int?)] {
        let ops = Set(report.opsBefore.keys).union(report.opsAfter.keys).sorted()
        return ops.map { ($0, report.opsBefore[$0] ?? 0, report.opsAfter.isEmpty ? nil : report.opsAfter[$0] ?? 0) }
    }

    static func html(_ r: RunReport) -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>bnconv \(escape(r.command)): \(escape(r.input))</title>
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:920px;color:#222}
        h1{font-size:20px} h2{font-size:16px;margin-top:28px}
        table{border-collapse:collapse;width:100%;margin:8px 0;table-layout:fixed} th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
        td code{overflow-wrap:anywhere}
        th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
        .pass{color:#1e8449;font-weight:600} .fail{color:#c0392b;font-weight:600} .kept{color:#9a6700} .folded{color:#1e8449}
        code{background:#f4f4f4;padding:1px 4px;border-radius:3px}
        </style></head><body>
        <h1>bnconv \(escape(r.command)): <code>\(escape(r.input))</code></h1>
        <p>\(escape(r.format)). Input \(size(r.inputBytes))\(r.output.map { "; output <code>\(escape($0))</code> \(size(r.outputBytes))" } ?? "; nothing written").</p>

        """
        if !r.decisions.isEmpty {
            let folded = r.decisions.filter(\.folds).count
            h += "<h2>BatchNorm layers: \(folded) of \(r.decisions.count) folded</h2>\n<table><tr><th>BatchNorm</th><th>outcome</th></tr>\n"
            for d in r.decisions {
                if let t = d.target {
                    let how = d.direction == .intoConsumer ? "folded into the next layer" : "folded into"
                    h += "<tr><td>\(escape(d.batchNorm))</td><td class=\"folded\">\(how) <code>\(escape(t))</code> (\(escape(d.targetOp ?? "")))</td></tr>\n"
                } else {
                    h += "<tr><td>\(escape(d.batchNorm))</td><td class=\"kept\">kept: \(escape(d.reason ?? ""))</td></tr>\n"
                }
            }
            h += "</table>\n"
        }
        if let v = r.verification {
            let w = v.worst
            h += "<h2>Verification: <span class=\"\(v.passed ? "pass" : "fail")\">\(v.passed ? "PASS" : "FAIL")</span></h2>\n"
            h += "<p>\(v.runs) run(s); max abs error \(sci(w?.maxAbs ?? 0)), max relative error \(sci(w?.maxRel ?? 0)) (of max |reference|), cosine \(String(format: "%.9f", w?.cosine ?? 1)); tolerance \(sci(v.tolerance)).</p>\n"
            h += "<table><tr><th>output</th><th>shape</th><th>max abs</th><th>max rel</th><th>cosine</th></tr>\n"
            for o in v.outputs {
                h += "<tr><td>\(escape(o.name))</td><td>\(o.shape)</td><td class=\"num\">\(sci(o.error.maxAbs))</td><td class=\"num\">\(sci(o.error.maxRel))</td><td class=\"num\">\(String(format: "%.9f", o.error.cosine))</td></tr>\n"
            }
            h += "</table>\n"
            if let d = v.firstDivergence {
                h += "<p class=\"fail\">First divergence: <code>\(escape(d.node))</code> (max rel \(sci(d.error.maxRel))).</p>\n"
            }
            if let plot = plot(r) {
                h += "<h2>Error along the network</h2>\n" + plot.svg() + "\n"
            }
        }
        h += "<h2>Ops</h2>\n<table><tr><th>op</th><th>before</th><th>after</th></tr>\n"
        for (op, before, after) in opRows(r) {
            h += "<tr><td>\(escape(op))</td><td class=\"num\">\(before)</td><td class=\"num\">\(after.map(String.init) ?? "-")</td></tr>\n"
        }
        h += "</table>\n"
        if !r.notes.isEmpty {
            h += "<h2>Notes</h2>\n<ul>" + r.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
        }
        h += "</body></html>\n"
        return h
    }

    static func markdown(_ r: RunReport) -> String {
        var m = "# bnconv \(r.command): `\(r.input)`\n\n\(r.format). Input \(size(r.inputBytes))"
        m += r.output.map { "; output `\($0)` \(size(r.outputBytes))." } ?? "; nothing written."
        m += "\n\n"
        if !r.decisions.isEmpty {
            m += "## BatchNorm layers: \(r.decisions.filter(\.folds).count) of \(r.decisions.count) folded\n\n| BatchNorm | outcome |\n|---|---|\n"
            for d in r.decisions {
                let outcome = d.target.map { "folded into `\($0)` (\(d.targetOp ?? ""))" } ?? "kept: \(d.reason ?? "")"
                m += "| \(d.batchNorm) | \(outcome.replacingOccurrences(of: "|", with: "\\|")) |\n"
            }
            m += "\n"
        }
        if let v = r.verification {
            let w = v.worst
            m += "## Verification: \(v.passed ? "PASS" : "FAIL")\n\n\(v.runs) run(s); max abs error \(sci(w?.maxAbs ?? 0)), max relative error \(sci(w?.maxRel ?? 0)), tolerance \(sci(v.tolerance)).\n\n"
            m += "| output | shape | max abs | max rel | cosine |\n|---|---|---|---|---|\n"
            for o in v.outputs { m += "| \(o.name) | \(o.shape) | \(sci(o.error.maxAbs)) | \(sci(o.error.maxRel)) | \(String(format: "%.9f", o.error.cosine)) |\n" }
            if let d = v.firstDivergence { m += "\nFirst divergence: `\(d.node)` (max rel \(sci(d.error.maxRel))).\n" }
            if !v.layers.isEmpty {
                m += "\n### Largest per-layer errors\n\n| layer | max rel |\n|---|---|\n"
                for l in v.layers.sorted(by: { $0.error.maxRel > $1.error.maxRel }).prefix(10) { m += "| \(l.node) | \(sci(l.error.maxRel)) |\n" }
            }
            m += "\n"
        }
        m += "## Ops\n\n| op | before | after |\n|---|---|---|\n"
        for (op, before, after) in opRows(r) { m += "| \(op) | \(before) | \(after.map(String.init) ?? "-") |\n" }
        if !r.notes.isEmpty { m += "\n## Notes\n\n" + r.notes.map { "- \($0)\n" }.joined() }
        return m
    }
}
