import BNConv
@testable import BNConvTestSupport
import Foundation
import XCTest

/// `kill -9` of `bnconv fold` (with and without `--no-verify`) at seeded random moments: the input is never touched, the target is
/// either absent or a complete fold (reads back with the reference fold's weights), the only debris
/// is a temporary file of bnconv's own naming (`.NAME.bnconv-PID-XXXXXXXX.tmp`), and the next write
/// removes it (its writer is dead).
final class KillDuringFoldTests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Trials run by the test (each one a fold started and killed); `BNCONV_KILL_TRIALS` overrides.
    static let trials = ProcessInfo.processInfo.environment["BNCONV_KILL_TRIALS"].flatMap(Int.init) ?? 40

    /// The model folded: the mini ResNet fixture in CI, or a large one named by `BNCONV_KILL_MODEL`
    /// (e.g. the 103 MB ResNet-50 `.h5` tools/bench/fold_bench.py generates), run by hand.
    static var model: String {
        ProcessInfo.processInfo.environment["BNCONV_KILL_MODEL"]
            ?? fixtures.appendingPathComponent("keras/mini_resnet/keras2.h5").path
    }

    func testKillNineLeavesInputIntactAndTargetAbsentOrComplete() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("model.h5").path
        try FileManager.default.copyItem(atPath: Self.model, toPath: input)
        let inputBytes = try Data(contentsOf: URL(fileURLWithPath: input))
        let target = dir.appendingPathComponent("folded.h5").path
        let reference = dir.appendingPathComponent("reference.h5").path

        let started = Date()
        let full = try CLIRunner.run(["fold", input, "-o", reference, "--quiet"], timeout: 120)
        XCTAssertEqual(full.status, 0, full.stderr)
        let duration = Date().timeIntervalSince(started)
        let expected = try Checkpoint.read(reference)

        var state: UInt64 = 2024
        var outcomes = ["absent": 0, "complete": 0, "temporary left": 0, "finished before the kill": 0]
        for trial in 0..<Self.trials {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let delay = duration * 1.1 * Double(state >> 11) / Double(1 << 53)
            let process = Process()
            process.executableURL = CLIRunner.executable
            // Every other trial folds without verification: deferred weights, streamed writes.
            process.arguments = ["fold", input, "-o", target, "--quiet"] + (trial % 2 == 1 ? ["--no-verify"] : [])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            let alive = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if !alive { outcomes["finished before the kill", default: 0] += 1 }

            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: input)), inputBytes, "trial \(trial): input changed")
            if FileManager.default.fileExists(atPath: target) {
                let folded = try Checkpoint.read(target)
                XCTAssertEqual(folded.nodes.map(\.name), expected.nodes.map(\.name), "trial \(trial)")
                XCTAssertEqual(folded.nodes.flatMap { $0.weights.map(\.tensor) }, expected.nodes.flatMap { $0.weights.map(\.tensor) },
                               "trial \(trial): the target is not the complete fold")
                outcomes["complete", default: 0] += 1
                try FileManager.default.removeItem(atPath: target)
            } else {
                outcomes["absent", default: 0] += 1
            }
            let debris = try FileManager.default.contentsOfDirectory(atPath: dir.path)
                .filter { !["model.h5", "reference.h5", "folded.h5"].contains($0) }
            for name in debris {
                XCTAssertTrue(name.hasPrefix(".folded.h5.bnconv-") && name.hasSuffix(".tmp"), "trial \(trial): stray \(name)")
            }
            if !debris.isEmpty { outcomes["temporary left", default: 0] += 1 }
        }
        // The next complete write removes what dead writers left.
        let last = try CLIRunner.run(["fold", input, "-o", target, "--quiet"], timeout: 120)
        XCTAssertEqual(last.status, 0, last.stderr)
        let remaining = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(remaining, [])
        print("kill -9 during fold: \(Self.trials) trials over \(String(format: "%.2f", duration)) s runs: \(outcomes)")
    }
}
