@testable import BNConvCore
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Every Keras fixture (Tests/Fixtures/keras, see /work/briefs/fixtures-layout.md) read through
/// ``Checkpoint`` and run by the engine must reproduce what Keras itself predicted.
final class ModelRunnerKerasFixturesTests: XCTestCase {
    /// Files to run per flavour and the reference each must match.
    private let files: [(file: String, reference: String)] = [
        ("keras2.h5", "output_keras2"), ("keras2.keras", "output_keras2"),
        ("keras3.keras", "output_keras3"), ("keras3_legacy.h5", "output_keras3"),
    ]

    /// Cases whose layers compute in half precision inside Keras (float16 / bfloat16 compute dtype):
    /// the engine computes in float32, so the reference itself carries half-precision rounding
    /// (float16 eps 9.8e-4, bfloat16 eps 7.8e-3).
    private let halfPrecisionTolerance: [String: Double] = ["mixed_dtypes": 5e-3, "mixed_bfloat16": 2e-2]

    private func references(_ folder: URL, _ stem: String) -> [URL] {
        let single = folder.appendingPathComponent("\(stem).npy")
        if FileManager.default.fileExists(atPath: single.path) { return [single] }
        return (0..<16).map { folder.appendingPathComponent("\(stem)_\($0).npy") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    func testEveryKerasFixtureMatchesKerasPredict() throws {
        let root = FixturePaths.url("keras")
        let cases = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
            .filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/input.npy").path) }
        XCTAssertFalse(cases.isEmpty)
        var worst = (error: 0.0, where: ""), worstHalf = (error: 0.0, where: "")
        var ran = 0
        for name in cases {
            let folder = root.appendingPathComponent(name)
            let input = try NumPyFile.read(folder.appendingPathComponent("input.npy").path)
            for (file, stem) in files {
                let path = folder.appendingPathComponent(file).path
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let refs = references(folder, stem)
                guard !refs.isEmpty else { continue }
                let model = try Checkpoint.read(path)
                let outputs: [Tensor]
                do {
                    outputs = try ModelRunner(model: model).run([input])
                } catch {
                    XCTFail("\(name)/\(file): \(error)")
                    continue
                }
                XCTAssertEqual(outputs.count, refs.count, "\(name)/\(file) output count")
                // Observing turns off epilogue fusion; the numbers must not change by a single bit.
                var observed = 0
                let unfused = try ModelRunner(model: model).run([input]) { _, _ in observed += 1 }
                XCTAssertEqual(unfused, outputs, "\(name)/\(file): fused and unfused runs differ")
                XCTAssertEqual(observed, model.nodes.filter { $0.op != .input }.count, "\(name)/\(file) observed values")
                for (output, ref) in zip(outputs, refs) {
                    let expected = try NumPyFile.read(ref.path)
                    let half = halfPrecisionTolerance[name]
                    assertClose(output, expected, tolerance: half ?? 1e-5, "\(name)/\(file) vs \(ref.lastPathComponent)")
                    if output.shape == expected.shape {
                        let e = relativeError(output.floats(), expected.floats())
                        if half == nil, e > worst.error { worst = (e, "\(name)/\(file)") }
                        if half != nil, e > worstHalf.error { worstHalf = (e, "\(name)/\(file)") }
                    }
                }
                ran += 1
            }
        }
        print("Keras fixtures run by the engine: \(ran) files; worst error \(worst.error) x max|ref| in \(worst.where); "
              + "half-precision-compute cases: worst \(worstHalf.error) in \(worstHalf.where)")
        XCTAssertGreaterThan(ran, 0)
    }
}
