import ArgumentParser

/// bnconv's documented exit statuses (README "Exit status").
enum ExitStatus {
    /// Success.
    static let ok = ExitCode(0)
    /// An error: bad input, unreadable file, failed write.
    static let error = ExitCode(1)
    /// A usage error: unknown option, bad combination (ArgumentParser's validation exit code).
    static let usage = ExitCode(2)
    /// Verification failed: the outputs differ beyond tolerance (nothing was written).
    static let verificationFailed = ExitCode(3)
}
