import Foundation

/// A one-line progress bar on stderr (stage, percent, rate, time left), erased when done.
/// Silent unless stderr is a terminal and `NO_COLOR`-style quiet mode is off.
final class ProgressBar {
    private let stage: String
    private var total: Int
    private let unit: String
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast

    /// A bar for `total` steps of `unit` (e.g. "runs", "samples").
    init(stage: String, total: Int, unit: String, quiet: Bool) {
        self.stage = stage
        self.total = max(total, 1)
        self.unit = unit
        self.enabled = Terminal.stderrIsTerminal && !quiet && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    /// Redraws for `done` steps (at most ten times a second, and always at the end).
    func update(_ done: Int) {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = Int(Double(width) * Double(done) / Double(total))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = String(format: "%@ [%@] %3d%% %.1f %@/s, %.0fs left", stage, bar, 100 * done / total, rate, unit, left)
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    /// Redraws for `done` of `total` steps, when the total is only known as the work runs.
    func update(_ done: Int, of total: Int) {
        self.total = max(total, 1)
        update(done)
    }

    /// Erases the bar.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
