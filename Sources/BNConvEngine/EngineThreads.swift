import BNConvCore
import BNConvModel
import BNConvInterop

/// Threads the engine's libraries start on their own.
public enum EngineThreads {
    /// Stops the worker threads the BLAS library starts (and keeps busy-waiting for a while) as
    /// soon as it is loaded; does nothing before it is loaded (it is loaded on first use). A run
    /// with single-threaded BLAS, the default (``RunOptions/blasThreads``), already does this; a
    /// run asking for more BLAS threads starts them again. Runs in progress on other threads finish
    /// their current steps first (call it between runs, or from a run's `observe` callback).
    public static func stopIdleBLASWorkers() {
        BLAS.stopWorkers()
    }
}
