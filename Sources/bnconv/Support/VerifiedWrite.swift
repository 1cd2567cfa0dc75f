import ArgumentParser
import BNConv

/// The end of every rewriting command: the library wrote only when verification passed (or was
/// skipped), or with `--force`; after the summary, warn about a forced write, or fail with exit
/// status 3 and nothing written.
enum VerifiedWrite {
    /// A warning on stderr after a forced write of a failed verification, and exit status 3 when
    /// verification failed without `--force`. `difference` says what differs ("the folded model
    /// differs from the original").
    static func conclude(_ result: RewriteResult, _ difference: String) throws {
        guard !result.passed else { return }
        let tolerance = ReportText.sci(result.verification?.tolerance ?? 0)
        if result.request.force {
            Terminal.printError("bnconv: warning: verification failed (beyond tolerance \(tolerance)); written anyway because of --force")
        } else {
            Terminal.printError("bnconv: verification failed: \(difference) beyond tolerance \(tolerance); nothing was written (--force writes anyway)")
            throw ExitStatus.verificationFailed
        }
    }
}
