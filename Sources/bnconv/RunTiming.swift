import Foundation

/// Per-run wall times of `bnconv run --time`, summarized on one line.
struct RunTiming {
    /// Milliseconds of each timed run.
    var milliseconds: [Double]
    /// The batch size run.
    var batch: Int
    /// The kernel set OpenBLAS multiplies with, when known.
    var blasKernels: String? = nil

    /// `time: batch 1, 10 runs, median 41.2 ms, min 40.9 ms, mean 41.5 ms, OpenBLAS SkylakeX`.
    var line: String {
        let sorted = milliseconds.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        let mean = sorted.reduce(0, +) / Double(max(sorted.count, 1))
        return String(format: "time: batch %d, %d runs, median %.2f ms, min %.2f ms, mean %.2f ms",
                      batch, sorted.count, median, sorted.first ?? 0, mean) + (blasKernels.map { ", OpenBLAS \($0)" } ?? "")
    }
}
