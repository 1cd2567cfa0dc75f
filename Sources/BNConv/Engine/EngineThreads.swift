/// Threads the engine's libraries start on their own.
public enum EngineThreads {
    /// Stops the worker threads the BLAS library starts (and keeps busy-waiting for a while) as
    /// soon as it is loaded. The engine multiplies single-threaded by default
    /// (``RunOptions/blasThreads``), so a command that runs no model, or runs it with the default,
    /// loses nothing; a run asking for more BLAS threads starts them again.
    public static func stopIdleBLASWorkers() {
        BLAS.stopWorkers()
    }
}
