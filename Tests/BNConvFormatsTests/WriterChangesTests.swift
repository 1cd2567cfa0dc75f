@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The three writers work from one ``ModelChanges``: an unchanged model is written back as read,
/// and a model that records no read outline is refused the same way by each.
final class WriterChangesTests: XCTestCase {
    private let files = ["keras/conv2d_bias_bn/keras3.keras", "tensorflow/conv_bias_bn/graph.pb", "onnx/conv_bn/model.onnx"]

    func testAModelWithoutItsReadOutlineIsRefusedByEveryWriter() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for relative in files {
            var model = try Checkpoint.read(FixturePaths.url(relative).path)
            model.asRead = nil
            let target = dir.appendingPathComponent("out." + (relative as NSString).pathExtension).path
            XCTAssertThrowsError(try Checkpoint.write(model, to: target), relative) { error in
                let e = error as? CheckpointError
                XCTAssertEqual(e?.kind, .unsupported, relative)
                XCTAssertEqual(e?.file, target, relative)
                XCTAssertTrue(e?.problem.contains("does not record how it was read") ?? false, "\(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: target), relative)
        }
    }

    func testProtobufFormatsWriteAnUnchangedModelBackByteForByte() throws {
        let graph = FixturePaths.url("tensorflow/conv_bias_bn/graph.pb").path
        XCTAssertEqual(try GraphDefWriter.serialize(try Checkpoint.read(graph), file: "o.pb"), try FileBytes.read(graph))
        let onnx = FixturePaths.url("onnx/conv_bn/model.onnx").path
        XCTAssertEqual(try ONNXWriter.serialize(try Checkpoint.read(onnx), file: "o.onnx"), try FileBytes.read(onnx))
    }
}
