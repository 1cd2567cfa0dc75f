import BNConv
@testable import BNConvTestSupport
import Foundation
import XCTest

/// `kill -9` at seeded random moments of every writing command other than `fold` (which
/// ``KillDuringFoldTests`` covers): `convert` to ONNX, `convert --layout`, `recalibrate` and
/// `run -o`. The inputs never change; the target is absent or the complete output (the same
/// weights, or the same bytes, as an undisturbed run's); the only debris is bnconv's own
/// temporaries (`.NAME.bnconv-PID-*.tmp` beside the target, `bnconv-convert-PID-*` in `TMPDIR`),
/// and the next run of the command removes them.
final class KillDuringEveryCommandTests: XCTestCase {
    private static let trials = ProcessInfo.processInfo.environment["BNCONV_KILL_TRIALS"].flatMap(Int.init).map { max($0 / 4, 2) } ?? 8

    func testKillNineDuringEveryWritingCommand() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let scratch = dir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let input = dir.appendingPathComponent("model.h5").path
        try FileManager.default.copyItem(atPath: FixturePaths.url("keras/mini_resnet/keras2.h5").path, toPath: input)
        let data = dir.appendingPathComponent("calib.npy").path
        try FileManager.default.copyItem(atPath: FixturePaths.url("keras/mini_resnet/calib.npy").path, toPath: data)
        let inputs = try [input, data].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let environment = ["TMPDIR": scratch.path]

        let cases: [(name: String, command: (String) -> [String])] = [
            ("x.onnx", { ["convert", input, "-o", $0, "--quiet"] }),
            ("x.h5", { ["convert", input, "--layout", "nchw", "-o", $0, "--quiet"] }),
            ("r.h5", { ["recalibrate", input, "--data", data, "-o", $0, "--quiet"] }),
            ("y.npy", { ["run", input, "-o", $0, "--quiet"] }),
        ]
        var state: UInt64 = 77
        for (name, command) in cases {
            let target = dir.appendingPathComponent(name).path
            let reference = dir.appendingPathComponent("reference-" + name).path
            let started = Date()
            let full = try CLIRunner.run(command(reference), timeout: 120, environment: environment)
            XCTAssertEqual(full.status, 0, "\(name): \(full.stderr)")
            let duration = Date().timeIntervalSince(started)
            for trial in 0..<Self.trials {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let delay = duration * 1.1 * Double(state >> 11) / Double(1 << 53)
                let process = Process()
                process.executableURL = CLIRunner.executable
                process.arguments = command(target)
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                Thread.sleep(forTimeInterval: delay)
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()

                XCTAssertEqual(try [input, data].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, inputs, "\(name) trial \(trial): an input changed")
                if FileManager.default.fileExists(atPath: target) {
                    if name.hasSuffix(".npy") {
                        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), try Data(contentsOf: URL(fileURLWithPath: reference)),
                                       "\(name) trial \(trial): not the complete output")
                    } else {
                        let written = try Checkpoint.read(target), expected = try Checkpoint.read(reference)
                        XCTAssertEqual(written.nodes.flatMap { $0.weights.map(\.tensor) }, expected.nodes.flatMap { $0.weights.map(\.tensor) },
                                       "\(name) trial \(trial): not the complete output")
                    }
                    try FileManager.default.removeItem(atPath: target)
                }
                for debris in try FileManager.default.contentsOfDirectory(atPath: dir.path) where debris.hasPrefix(".") {
                    XCTAssertTrue(debris.hasPrefix(".\(name).bnconv-") && debris.hasSuffix(".tmp"), "\(name) trial \(trial): stray \(debris)")
                }
                for debris in try FileManager.default.contentsOfDirectory(atPath: scratch.path) {
                    XCTAssertTrue(debris.hasPrefix("bnconv-convert-"), "\(name) trial \(trial): stray \(debris) in TMPDIR")
                }
            }
            // The next complete run removes what dead runs left, beside the target and in TMPDIR.
            let last = try CLIRunner.run(command(target), timeout: 120, environment: environment)
            XCTAssertEqual(last.status, 0, "\(name): \(last.stderr)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }, [], name)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [], "\(name): TMPDIR")
        }
    }
}
