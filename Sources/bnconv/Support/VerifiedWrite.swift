import ArgumentParser
import BNConv

/// The rule every rewriting command follows: write only when verification passed (or was skipped),
/// or when `--force` overrides it; after the summary, warn about a forced write, or fail with exit
/// status 3 and nothing written.
struct VerifiedWrite {
    /// The verification, or nil with `--no-verify`.
    let report: VerificationReport?
    /// Whether `--force` was given.
    let force: Bool

    /// Whether verification passed (true when skipped).
    var passed: Bool { report?.passed ?? true }
    /// Whether the output is written.
    var writes: Bool { passed || force }

    /// Runs `write` when the output is to be written; returns whether it was.
    @discardableResult
    func write(_ write: () throws -> Void) rethrows -> Bool {
        if writes { try write() }
        return writes
    }

    /// Ends the command: a warning on stderr after a forced write of a failed verification, and
    /// exit status 3 when verification failed without `--force`. `difference` says what differs
    /// ("the folded model differs from the original").
    func conclude(_ difference: String) throws {
        guard !passed else { return }
        let tolerance = ReportText.sci(report?.tolerance ?? 0)
        if force {
            Terminal.printError("bnconv: warning: verification failed (beyond tolerance \(tolerance)); written anyway because of --force")
        } else {
            Terminal.printError("bnconv: verification failed: \(difference) beyond tolerance \(tolerance); nothing was written (--force writes anyway)")
            throw ExitStatus.verificationFailed
        }
    }
}
