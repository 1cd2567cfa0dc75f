import BNConv

/// Shows the library's ``RewriteProgress`` events: a ``ProgressBar`` per stage, and the read
/// watchdog (``CrashGuard``) stood down once the inputs are read.
final class ProgressReporter {
    private var bar: ProgressBar?
    private let quiet: Bool

    /// A reporter that draws nothing when `quiet`.
    init(quiet: Bool) { self.quiet = quiet }

    /// The handler to pass to the library.
    var handler: RewriteProgressHandler {
        { [self] event in
            switch event {
            case .readFinished: CrashGuard.readingDone()
            case .started(let stage, let total, let unit): bar = ProgressBar(stage: stage, total: total, unit: unit, quiet: quiet)
            case .advanced(let done, let total):
                if let total { bar?.update(done, of: total) } else { bar?.update(done) }
            case .finished:
                bar?.finish()
                bar = nil
            }
        }
    }
}
