import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// The engine runs every runnable ONNX fixture, before and after the fold, against onnxruntime's
/// own output (recorded with graph optimizations disabled) within 1e-5 x max|reference|.
final class ONNXEngineTests: XCTestCase {
    /// Fixtures the engine can run (`opaque_op` holds a Sin, which the engine does not implement).
    static let runnable = ONNXFixtures.cases.filter { $0 != "opaque_op" }

    private func reference(_ name: String) throws -> (input: Tensor, output: Tensor) {
        (try NumPyFile.read(FixturePaths.url("onnx/\(name)/input.npy").path),
         try NumPyFile.read(FixturePaths.url("onnx/\(name)/output.npy").path))
    }

    /// Runs `model` on the case's input and compares with onnxruntime's output; returns the error.
    @discardableResult
    private func assertMatchesOnnxRuntime(_ model: Model, _ name: String, _ label: String,
                                          file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let (input, expected) = try reference(name)
        let outputs = try ModelRunner(model: model).run([input])
        XCTAssertEqual(outputs.count, 1, "\(name) \(label)", file: file, line: line)
        let got = try XCTUnwrap(outputs.first, file: file, line: line)
        XCTAssertEqual(got.shape, expected.shape, "\(name) \(label): shape", file: file, line: line)
        guard got.shape == expected.shape else { return .infinity }
        let e = expected.doubles()
        let scale = e.map(abs).max() ?? 0
        let error = zip(got.doubles(), e).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(error, 1e-5 * scale, "\(name) \(label): max error \(error), max|ref| \(scale)", file: file, line: line)
        return error
    }

    func testEngineMatchesOnnxRuntimeBeforeFolding() throws {
        for name in Self.runnable {
            try assertMatchesOnnxRuntime(try ONNXFixtures.read(name), name, "as read")
        }
    }

    func testFoldedModelsMatchOnnxRuntimeAndKeepNoFoldableBatchNorm() throws {
        for name in Self.runnable {
            let result = try FoldBatchNorm().apply(to: try ONNXFixtures.read(name))
            try assertMatchesOnnxRuntime(result.model, name, "folded")
            XCTAssertTrue(planBatchNormFolds(result.model).allSatisfy { $0.target == nil }, "\(name): a foldable BN remains")
            // And the same after writing and reading the folded model back as ONNX.
            let back = try ONNXReader.read(bytes: try ONNXWriter.serialize(result.model, file: "\(name).onnx"), file: "\(name).onnx")
            try assertMatchesOnnxRuntime(back, name, "folded, written and read back")
            let expectedLeft = try ONNXFixtures.facts(name)["batch_norms"] as? [[String: Any]] ?? []
            let foldable = try ONNXFixtures.facts(name)["foldable_batch_norms"] as? [String] ?? []
            XCTAssertEqual(back.batchNormIndices.count, expectedLeft.count - foldable.count, "\(name): BNs left")
        }
    }

    func testOpaqueOpIsNamedByTheEngine() throws {
        XCTAssertThrowsError(try ModelRunner(model: try ONNXFixtures.read("opaque_op"))) { error in
            XCTAssertTrue("\(error)".contains("sin"), "\(error)")
        }
    }
}
