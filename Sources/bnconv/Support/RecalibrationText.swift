import BNConv
import Foundation

/// Text rendering of a recalibration's per-BatchNorm drift.
enum RecalibrationText {
    /// A header and one row per BN (the ten that moved most unless `verbose`): mean change in old
    /// standard deviations and relative variance change, max and mean over channels.
    static func drift(_ drift: [BatchNormDrift], verbose: Bool) -> [String] {
        guard !drift.isEmpty else { return [] }
        let shown = verbose ? drift : Array(drift.sorted { stale($0) > stale($1) }.prefix(10)).sorted {
            (drift.firstIndex(of: $0) ?? 0) < (drift.firstIndex(of: $1) ?? 0)
        }
        let width = min(max(shown.map(\.node.count).max() ?? 0, 9), 40)
        var lines = ["  " + "layer".padding(toLength: width, withPad: " ", startingAt: 0)
                     + "  mean shift/std (max, avg)   variance rel. change (max, avg)"]
        for d in shown {
            let name = d.node.padding(toLength: max(width, d.node.count), withPad: " ", startingAt: 0)
            let row = String(format: "%10.3g %10.3g   %14.3g %10.3g", d.meanMaxChange, d.meanMeanChange,
                             d.varianceMaxChange, d.varianceMeanChange)
            let text = "  \(name)  \(row)"
            lines.append(stale(d) > 0.1 ? Terminal.warn(text) : text)
        }
        if shown.count < drift.count { lines.append("  (\(drift.count - shown.count) more layer(s) moved less; --verbose lists all)") }
        return lines
    }

    /// How stale a BN was: the larger of its two max changes.
    private static func stale(_ d: BatchNormDrift) -> Double { max(d.meanMaxChange, d.varianceMaxChange) }
}
