import BNConv
import Foundation

/// One file of a batch `fold`: the `--json` object the single-file `fold` prints for it, plus
/// `file`, `status`, `exitStatus`, `wallSeconds` and, for a file that failed, `error` (and the
/// `signal` that ended its process, when one did). Without the child's object (an error before
/// it, or a crash) the entry holds `command` and `input` and those fields.
struct BatchFoldEntry: Encodable {
    /// How the file ended.
    enum Status: String, Encodable {
        /// Folded and written, verified unless `--no-verify` (nothing written when nothing folds).
        case ok
        /// Written although verification failed, because of `--force`.
        case forced
        /// Verification failed; nothing was written (exit status 3).
        case verificationFailed = "verification-failed"
        /// An error: unreadable or refused input, failed write (exit status 1 or 2).
        case error
        /// Its process was ended by a signal.
        case crashed

        /// The words the table shows.
        var text: String {
            switch self {
            case .ok: "ok"
            case .forced: "forced"
            case .verificationFailed: "verification failed"
            case .error: "error"
            case .crashed: "crashed"
            }
        }
    }

    /// The input as planned.
    var file: String
    /// How it ended.
    var status: Status
    /// The exit status it counts as.
    var exitStatus: Int32
    /// What went wrong, one line, for a file that did not end `ok`.
    var error: String?
    /// The signal that ended the child process.
    var signal: Int32?
    /// Wall-clock seconds of the child process.
    var wallSeconds: Double
    /// The child's own `--json` object, when it printed one.
    var summary: FoldSummary?

    private enum CodingKeys: String, CodingKey {
        case file, status, exitStatus, error, signal, wallSeconds, command, input
    }

    /// The entry of `file` from how its `bnconv fold FILE --json` child ended.
    init(file: String, outcome: ChildProcess.Outcome) {
        self.file = file
        wallSeconds = (outcome.seconds * 1e6).rounded() / 1e6
        summary = BatchFoldEntry.decodeSummary(outcome.stdout)
        let message = BatchFoldEntry.errorLine(outcome.stderr)
        if let signal = outcome.signal {
            status = .crashed
            exitStatus = ExitStatus.error.rawValue
            self.signal = signal
            error = "its process was ended by signal \(signal) (\(String(cString: strsignal(signal))))" + (message.map { " after: \($0)" } ?? "")
            return
        }
        exitStatus = outcome.status
        switch outcome.status {
        case 0 where summary != nil:
            let failed = summary?.verification.map { !$0.passed } ?? false
            status = failed ? .forced : .ok
            error = failed ? message : nil
        case 0:
            status = .error
            exitStatus = ExitStatus.error.rawValue
            error = "its process printed no result"
        case ExitStatus.verificationFailed.rawValue:
            status = .verificationFailed
            error = message ?? "verification failed"
        default:
            status = .error
            error = message ?? "its process ended with status \(outcome.status)"
        }
    }

    /// The entry of `file` whose process could not be started.
    init(file: String, unstarted: Error) {
        self.file = file
        status = .error
        exitStatus = ExitStatus.error.rawValue
        error = "could not start a bnconv process: \(unstarted)"
        wallSeconds = 0
    }

    func encode(to encoder: Encoder) throws {
        if let summary { try summary.encode(to: encoder) }
        var c = encoder.container(keyedBy: CodingKeys.self)
        if summary == nil {
            try c.encode("fold", forKey: .command)
            try c.encode(file, forKey: .input)
        }
        try c.encode(file, forKey: .file)
        try c.encode(status, forKey: .status)
        try c.encode(exitStatus, forKey: .exitStatus)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(signal, forKey: .signal)
        try c.encode(wallSeconds, forKey: .wallSeconds)
    }

    /// The child's `fold --json` object, if its standard output holds one.
    private static func decodeSummary(_ stdout: Data) -> FoldSummary? {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try? decoder.decode(FoldSummary.self, from: stdout)
    }

    /// The child's message, one line: its `bnconv: ...` lines (the `bnconv: error: ` prefix
    /// dropped), or the `Error: ...` line of a usage error; `nil` when it printed neither.
    private static func errorLine(_ stderr: Data) -> String? {
        let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n").map(String.init)
        let ours = lines.filter { $0.hasPrefix("bnconv: ") }.map { line in
            line.hasPrefix("bnconv: error: ") ? String(line.dropFirst("bnconv: error: ".count)) : String(line.dropFirst("bnconv: ".count))
        }
        if !ours.isEmpty { return Terminal.oneLine(ours.joined(separator: "; ")) }
        if let usage = lines.first(where: { $0.hasPrefix("Error: ") }) { return Terminal.oneLine(String(usage.dropFirst("Error: ".count))) }
        return nil
    }

    /// The lines of a child's standard error to show on ours: its `bnconv: ...` lines, naming
    /// `file` where they do not already, and a usage error's `Error: ...` line as
    /// `bnconv: error: FILE: ...` (the usage text dropped).
    static func forwardedLines(_ stderr: Data, file: String) -> [String] {
        String(decoding: stderr, as: UTF8.self).split(separator: "\n").compactMap { line in
            if line.hasPrefix("Error: ") { return "bnconv: error: \(file): \(line.dropFirst("Error: ".count))" }
            guard line.hasPrefix("bnconv: ") else { return nil }
            let text = line.dropFirst("bnconv: ".count)
            if text.contains(file) { return String(line) }
            for kind in ["error: ", "warning: "] where text.hasPrefix(kind) {
                return "bnconv: \(kind)\(file): \(text.dropFirst(kind.count))"
            }
            return "bnconv: \(file): \(text)"
        }
    }
}
