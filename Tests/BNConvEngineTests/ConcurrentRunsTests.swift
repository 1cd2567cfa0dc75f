@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvTestSupport
import Foundation
import Synchronization
import XCTest

/// Engine runs on two threads of one process at once, with different options, each give exactly
/// what the same run gives alone.
///
/// The runs normalize with batch statistics so that each reports the per-channel moments of its
/// BatchNorm inputs in Double (``ModelRunner/run(_:observe:batchNormMoments:)``). Those sums are
/// split into `4 x threads` parts added in part order: a fixed thread count gives the same bits
/// every time, and 1 and 2 threads give different last bits. A run that split its sums by
/// another run's thread count therefore shows: the test would fail if the engine's worker count
/// were still one process-wide setting that each run sets when it starts (as `Parallel.workers`
/// was), because the run asking for 1 thread would then, while the other runs, split by 2.
final class ConcurrentRunsTests: XCTestCase {
    /// What one run gives: its outputs and the moments of every BatchNorm input.
    private struct Outcome: Equatable, Sendable {
        let outputs: [[Float]]
        let moments: [BatchNormObservation]
    }

    /// Runs per thread while the other thread runs too.
    private static let repeats = 8

    /// mini_resnet (BatchNorms after a stride-2 stem on 16x16 inputs): at batch 128 its first
    /// BatchNorms see 128 x 8 x 8 x 8 values, enough to be summed in parts.
    private func fixture() throws -> (model: Model, input: Tensor) {
        let model = try Checkpoint.read(FixturePaths.url("keras/mini_resnet/keras2.h5").path)
        let input = try XCTUnwrap(RandomInputs.make(for: model, batch: 128, seed: 11).first)
        return (model, input)
    }

    /// One run of a fresh runner with `options`.
    private static func outcome(_ runner: ModelRunner, _ input: Tensor) throws -> Outcome {
        var moments: [BatchNormObservation] = []
        let outputs = try runner.run([input], batchNormMoments: { moments.append($0) })
        return Outcome(outputs: outputs.map { $0.floats() }, moments: moments)
    }

    /// Runs `options[i]` ``repeats`` times on thread `i`, all threads at once (each makes its own
    /// runner), and returns every thread's outcomes.
    private static func concurrently(_ model: Model, _ input: Tensor, _ options: [RunOptions]) throws -> [[Outcome]] {
        let results = Mutex<[Int: Result<[Outcome], Error>]>([:])
        let ready = Atomic<Int>(0)
        let finished = DispatchGroup()
        for (i, option) in options.enumerated() {
            finished.enter()
            let thread = Thread {
                defer { finished.leave() }
                let result = Result { () throws -> [Outcome] in
                    let runner = try ModelRunner(model: model, options: option)
                    // Start together, so that the runs overlap from the first one.
                    ready.add(1, ordering: .acquiringAndReleasing)
                    while ready.load(ordering: .acquiring) < options.count {}
                    return try (0..<repeats).map { _ in try outcome(runner, input) }
                }
                results.withLock { $0[i] = result }
            }
            thread.start()
        }
        finished.wait()
        return try results.withLock { all in try options.indices.map { try all[$0]!.get() } }
    }

    func testRunsWithOneAndTwoThreadsAtOnceMatchTheirRunsAlone() throws {
        let (model, input) = try fixture()
        let options = [RunOptions(threads: 1, batchNormStatistics: .batch),
                       RunOptions(threads: 2, batchNormStatistics: .batch)]
        let alone = try options.map { try Self.outcome(ModelRunner(model: model, options: $0), input) }
        XCTAssertEqual(alone[0].moments.count, 6)
        // The check can tell the two thread counts apart: their moment sums differ in the last bits...
        XCTAssertNotEqual(alone[0].moments, alone[1].moments, "1 and 2 threads sum the moments in the same order")
        // ...and only there.
        for (one, two) in zip(alone[0].moments, alone[1].moments) {
            assertClose(one.moments.mean + one.moments.variance, two.moments.mean + two.moments.variance,
                        relative: 1e-6, one.node)
        }
        for (one, two) in zip(alone[0].outputs, alone[1].outputs) { assertClose(one, two, relative: 1e-6, "outputs") }

        let together = try Self.concurrently(model, input, options)
        for (i, outcomes) in together.enumerated() {
            for (r, outcome) in outcomes.enumerated() {
                XCTAssertEqual(outcome.moments, alone[i].moments, "\(options[i].threads!) thread(s), run \(r): moments")
                XCTAssertEqual(outcome.outputs, alone[i].outputs, "\(options[i].threads!) thread(s), run \(r): outputs")
            }
        }
    }

    /// OpenBLAS has one thread count per process: runs asking for different counts at once take
    /// turns (``BLASThreadGate``) and each still gives what it gives alone, while a third thread
    /// keeps stopping OpenBLAS's idle workers.
    func testRunsWithDifferentBLASThreadsAtOnceMatchTheirRunsAlone() throws {
        let (model, input) = try fixture()
        let options = [RunOptions(threads: 1, blasThreads: 1), RunOptions(threads: 1, blasThreads: 2),
                       RunOptions(threads: 2)]
        let alone = try options.map { try Self.outcome(ModelRunner(model: model, options: $0), input) }
        let stop = Atomic<Bool>(false), stops = Atomic<Int>(0)
        let stopper = Thread {
            while !stop.load(ordering: .acquiring) {
                EngineThreads.stopIdleBLASWorkers()
                stops.add(1, ordering: .relaxed)
                usleep(200)
            }
        }
        stopper.start()
        defer { stop.store(true, ordering: .releasing) }
        let together = try Self.concurrently(model, input, options)
        XCTAssertGreaterThan(stops.load(ordering: .relaxed), 0, "the runs kept the workers from being stopped")
        for (i, outcomes) in together.enumerated() {
            for (r, outcome) in outcomes.enumerated() {
                XCTAssertEqual(outcome.outputs, alone[i].outputs, "options \(i), run \(r)")
            }
        }
    }

    /// `actual` is within `relative` of `expected`'s largest magnitude, element by element.
    private func assertClose(_ actual: [Double], _ expected: [Double], relative: Double, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let scale = max(expected.map(abs).max() ?? 0, 1e-30)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst / scale, relative, what, file: file, line: line)
    }

    /// Float arrays compared as ``assertClose(_:_:relative:_:file:line:)``.
    private func assertClose(_ actual: [Float], _ expected: [Float], relative: Double, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        assertClose(actual.map(Double.init), expected.map(Double.init), relative: relative, what, file: file, line: line)
    }
}
