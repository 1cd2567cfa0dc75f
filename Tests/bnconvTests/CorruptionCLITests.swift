import Foundation
import XCTest
@testable import BNConvTestSupport

/// Damaged files through the built `bnconv` binary: every run ends with status 1 and one
/// `bnconv: ` error line naming the file (or, when the damage left a valid file, 0 or 3), never by a
/// signal, never past a timeout, and never leaves a temporary or partial file in the output directory.
///
/// The HDF5 formats (`.h5`, `.weights.h5`) get their whole 200+ variant corpus here, since libhdf5
/// can crash on damaged metadata (the CLI turns that into status 1); the other formats get a sample
/// (their full corpus runs in-process in BNConvTests/Robustness).
final class CorruptionCLITests: XCTestCase {
    /// Outcomes of one format's runs.
    struct Tally: CustomStringConvertible {
        var refused = 0, accepted = 0, guarded = 0
        var description: String { "status 1: \(refused) (of which the crash guard: \(guarded)), status 0/3: \(accepted)" }
    }

    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    func testKerasH5Inspect() throws {
        try corpus("keras/bn_conv/keras2.h5", name: "model.h5", count: 210, seed: 21) { path, _ in ["inspect", path] }
    }

    func testKerasWeightsH5Inspect() throws {
        let config = Self.fixtures.appendingPathComponent("keras/bn_conv/keras3.json").path
        try corpus("keras/bn_conv/keras3.weights.h5", name: "model.weights.h5", count: 210, seed: 22) { path, _ in
            ["inspect", path, "--config", config]
        }
    }

    func testFoldSample() throws {
        for (fixture, name, seed) in [("keras/bn_conv/keras2.h5", "model.h5", 31), ("keras/bn_conv/keras3.keras", "model.keras", 32),
                                      ("tensorflow/conv_bias_bn/graph.pb", "model.pb", 33), ("onnx/conv_bn/model.onnx", "model.onnx", 34)] {
            try corpus(fixture, name: name, count: 24, seed: UInt64(seed)) { path, out in
                ["fold", path, "-o", out.appendingPathComponent("folded." + (name as NSString).pathExtension).path]
            }
        }
    }

    func testVerifySample() throws {
        for (fixture, name, seed) in [("keras/bn_conv/keras2.h5", "model.h5", 41), ("onnx/conv_bn/model.onnx", "model.onnx", 42)] {
            let intact = Self.fixtures.appendingPathComponent(fixture).path
            try corpus(fixture, name: name, count: 16, seed: UInt64(seed)) { path, _ in ["verify", intact, path] }
        }
    }

    func testVerifyWithDamagedInputArray() throws {
        let model = Self.fixtures.appendingPathComponent("keras/bn_conv/keras2.h5").path
        try corpus("keras/bn_conv/input.npy", name: "input.npy", count: 16, seed: 43) { path, _ in ["verify", model, model, "--input", path] }
    }

    // MARK: Driver

    /// SplitMix64.
    private struct Random {
        var state: UInt64
        mutating func below(_ n: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D4_9BB1_33B1_11EB
            return Int((z ^ (z >> 31)) % UInt64(max(n, 1)))
        }
    }

    /// `count` variants of `bytes`: a third truncations, a third byte flips, a third 8-byte
    /// little-endian fields (HDF5 sizes and addresses) zeroed or maxed.
    private static func variants(of bytes: [UInt8], count: Int, seed: UInt64) -> [(String, [UInt8])] {
        var random = Random(state: seed)
        var out: [(String, [UInt8])] = []
        for i in 0..<count {
            var b = bytes
            switch i % 3 {
            case 0:
                let cut = i < 30 ? i / 3 * 7 : random.below(bytes.count)
                out.append(("truncate@\(cut)", Array(bytes.prefix(cut))))
            case 1:
                let n = 1 + random.below(6)
                for _ in 0..<n { b[random.below(b.count)] ^= UInt8(1 + random.below(255)) }
                out.append(("flip \(n) (\(seed)/\(i))", b))
            default:
                let at = random.below(b.count / 8) * 8
                let value: UInt8 = random.below(2) == 0 ? 0 : 0xFF
                for k in at..<min(at + 8, b.count) { b[k] = value }
                out.append(("8-byte field @\(at) = \(value) (\(seed)/\(i))", b))
            }
        }
        return out
    }

    private func corpus(_ fixture: String, name: String, count: Int, seed: UInt64,
                        file: StaticString = #filePath, line: UInt = #line,
                        arguments: (_ path: String, _ outDir: URL) -> [String]) throws {
        let original = try [UInt8](Data(contentsOf: Self.fixtures.appendingPathComponent(fixture)))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-cli-corpus-\(UUID().uuidString)")
        let outDir = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        var tally = Tally()
        for (label, bytes) in Self.variants(of: original, count: count, seed: seed) {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for f in try FileManager.default.contentsOfDirectory(atPath: outDir.path) {
                try FileManager.default.removeItem(at: outDir.appendingPathComponent(f))
            }
            let result = try CLIRunner.run(arguments(path, outDir), timeout: 60)
            XCTAssertFalse(result.timedOut, "\(label): no answer within 60 s", file: file, line: line)
            XCTAssertFalse(result.signalled, "\(label): killed by signal \(result.status)", file: file, line: line)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: outDir.path)
            switch result.status {
            case 1:
                // `inspect` prints `bnconv: FILE: problem`, the other commands `bnconv: error: ...`.
                let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("bnconv: ") }
                XCTAssertEqual(lines.count, 1, "\(label): \(result.stderr)", file: file, line: line)
                XCTAssertTrue(lines.first?.contains(name) ?? false, "\(label): the message does not name the file: \(result.stderr)",
                              file: file, line: line)
                XCTAssertEqual(leftovers, [], "\(label): files left after an error", file: file, line: line)
                tally.refused += 1
                if result.stderr.contains("crashed a C library") { tally.guarded += 1 }
            case 0, 3:
                XCTAssertTrue(leftovers.allSatisfy { !$0.hasSuffix(".tmp") }, "\(label): temporary files left: \(leftovers)", file: file, line: line)
                tally.accepted += 1
            default:
                XCTFail("\(label): status \(result.status): \(result.stderr)", file: file, line: line)
            }
        }
        XCTAssertEqual(try [UInt8](Data(contentsOf: Self.fixtures.appendingPathComponent(fixture))), original, file: file, line: line)
        print("cli corruption corpus \(arguments("X", outDir).first ?? "") \(name): \(count) variants: \(tally)")
    }
}
