/// What a long-running library call reports while it works, for a progress display.
public enum RewriteProgress: Sendable {
    /// Every input file has been read (a read watchdog can stand down).
    case readFinished
    /// A stage began: its name (`verify`, `re-read`, `recalibrate`), the units of work it expects
    /// (0 when unknown yet) and what they are called.
    case started(stage: String, total: Int, unit: String)
    /// `done` units of the current stage are finished, of `total` when the stage now knows it.
    case advanced(done: Int, total: Int?)
    /// The current stage ended.
    case finished
}

/// Receives ``RewriteProgress`` events, on the thread running the call, one at a time.
public typealias RewriteProgressHandler = (RewriteProgress) -> Void
