@testable import BNConvCore
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Every TensorFlow GraphDef fixture (Tests/Fixtures/tensorflow) read through ``Checkpoint`` and run
/// by the engine must reproduce TensorFlow's own output of the frozen graph, before folding, after
/// folding, and after the folded model is written as a GraphDef and read back.
final class ModelRunnerGraphDefFixturesTests: XCTestCase {
    /// Graphs that compute in half precision inside TensorFlow; the engine computes in float32, so
    /// the reference carries float16 rounding (eps 9.8e-4).
    private let halfPrecisionTolerance: [String: Double] = ["conv_bn_float16": 5e-3, "conv_bn_mixed": 5e-3]

    func testEveryGraphDefFixtureMatchesTensorFlow() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var worst = (error: 0.0, where: "")
        var ran = 0
        for name in try TensorFlowFixtures.cases() {
            let folder = FixturePaths.url("tensorflow/\(name)")
            let input = try NumPyFile.read(folder.appendingPathComponent("input.npy").path)
            let expected = try NumPyFile.read(folder.appendingPathComponent("output.npy").path)
            let tolerance = halfPrecisionTolerance[name] ?? 1e-5
            let model = try Checkpoint.read(TensorFlowFixtures.graph(name))
            let folded = try FoldBatchNorm().apply(to: model).model
            let out = dir.appendingPathComponent("\(name).pb").path
            try Checkpoint.write(folded, to: out)
            let reread = try Checkpoint.read(out)
            for (stage, m) in [("read", model), ("folded", folded), ("written back", reread)] {
                let outputs: [Tensor]
                do {
                    outputs = try ModelRunner(model: m).run([input])
                } catch {
                    XCTFail("\(name) \(stage): \(error)")
                    continue
                }
                XCTAssertEqual(outputs.count, 1, "\(name) \(stage)")
                guard let output = outputs.first else { continue }
                assertClose(output, expected, tolerance: tolerance, "\(name) \(stage)")
                if output.shape == expected.shape, halfPrecisionTolerance[name] == nil {
                    let e = relativeError(output.floats(), expected.floats())
                    if e > worst.error { worst = (e, "\(name) \(stage)") }
                }
                ran += 1
            }
        }
        print("GraphDef fixtures run by the engine: \(ran) runs; worst error \(worst.error) x max|ref| in \(worst.where)")
        XCTAssertEqual(ran, 3 * (try TensorFlowFixtures.cases().count))
    }
}
