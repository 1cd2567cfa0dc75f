import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport

/// `.onnx` files go through the one entry point: Checkpoint.read / Checkpoint.write.
final class ONNXCheckpointTests: XCTestCase {
    func testCheckpointReadsAndWritesONNX() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let model = try Checkpoint.read(ONNXFixtures.modelPath("small_cnn"))
        XCTAssertEqual(model.format, .onnx)
        XCTAssertEqual(model.batchNormIndices.count, 2)
        let out = dir.appendingPathComponent("folded.onnx").path
        try Checkpoint.write(try FoldBatchNorm().apply(to: model).model, to: out)
        let back = try Checkpoint.read(out)
        XCTAssertEqual(back.batchNormIndices.count, 0)
        XCTAssertEqual(back.outputs, model.outputs)
    }

    func testTruncatedONNXThroughCheckpointIsOneClearLine() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cut.onnx").path
        let bytes = try ONNXFixtures.modelBytes("conv_bn")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes.prefix(bytes.count / 2))))
        XCTAssertThrowsError(try Checkpoint.read(path)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.kind, .malformed)
            XCTAssertTrue(e?.description.hasPrefix("\(path): not an ONNX model: field 7") ?? false, e?.description ?? "\(error)")
            XCTAssertFalse(e?.description.contains("\n") ?? true)
        }
    }
}
