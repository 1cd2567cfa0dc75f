import Foundation
import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvPasses
import BNConvEngine
import BNConvVerify
import BNConvCalibration

/// An inline SVG line chart of the per-layer maximum relative error along the network (log scale),
/// with the tolerance as a dashed line and folded layers marked, so a reader sees where error grows.
struct ErrorPlot {
    /// One point: a layer name, its error, and whether a BN was folded into it.
    struct Point {
        var label: String
        var error: Double
        var folded: Bool
    }

    var points: [Point]
    var tolerance: Double
    var width = 860.0
    var height = 300.0

    /// The SVG markup (self-contained; no scripts).
    func svg() -> String {
        let left = 64.0, right = 16.0, top = 16.0, bottom = 40.0
        let plotW = width - left - right, plotH = height - top - bottom
        let floor = 1e-10
        let values = points.map { max($0.error.isFinite ? $0.error : 1, floor) } + [tolerance]
        let lo = pow(10, (log10(values.min() ?? floor)).rounded(.down))
        let hi = pow(10, (log10(max(values.max() ?? 1, lo * 10))).rounded(.up))
        func x(_ i: Int) -> Double { left + (points.count > 1 ? Double(i) / Double(points.count - 1) : 0.5) * plotW }
        func y(_ v: Double) -> Double {
            let t = (log10(max(v, floor)) - log10(lo)) / (log10(hi) - log10(lo))
            return top + (1 - t) * plotH
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"per-layer maximum relative error\">\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#fff\"/>\n"
        var decade = lo
        while decade <= hi * 1.0001 {
            let yy = y(decade)
            svg += "<line x1=\"\(left)\" y1=\"\(f(yy))\" x2=\"\(width - right)\" y2=\"\(f(yy))\" stroke=\"#e3e3e3\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(f(yy + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">1e\(Int(log10(decade).rounded()))</text>\n"
            decade *= 10
        }
        let ty = y(tolerance)
        svg += "<line x1=\"\(left)\" y1=\"\(f(ty))\" x2=\"\(width - right)\" y2=\"\(f(ty))\" stroke=\"#c0392b\" stroke-dasharray=\"6 4\"/>"
        svg += "<text x=\"\(width - right)\" y=\"\(f(ty - 5))\" font-size=\"11\" text-anchor=\"end\" fill=\"#c0392b\">tolerance \(sci(tolerance))</text>\n"
        if !points.isEmpty {
            let path = points.indices.map { "\($0 == 0 ? "M" : "L")\(f(x($0))),\(f(y(points[$0].error)))" }.joined(separator: " ")
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"#2e6fb7\" stroke-width=\"1.5\"/>\n"
            for (i, p) in points.enumerated() {
                let color = p.folded ? "#27ae60" : "#2e6fb7"
                svg += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(p.error)))\" r=\"\(p.folded ? 3.5 : 2)\" fill=\"\(color)\"><title>\(escape(p.label)): \(sci(p.error))\(p.folded ? " (BN folded here)" : "")</title></circle>\n"
            }
        }
        svg += "<text x=\"\(left + plotW / 2)\" y=\"\(f(height - 8))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\">layers in topological order (\(points.count)); green: a BatchNorm was folded into it</text>\n"
        svg += "<text x=\"14\" y=\"\(f(top + plotH / 2))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\" transform=\"rotate(-90 14 \(f(top + plotH / 2)))\">max |a-b| / max |a|</text>\n"
        svg += "</svg>"
        return svg
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
    private func sci(_ v: Double) -> String { v.isFinite ? String(format: "%.2g", v) : "inf" }
    private func escape(_ s: String) -> String { RunReportRenderer.escape(s) }
}
