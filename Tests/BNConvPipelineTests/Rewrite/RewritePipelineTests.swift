import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvPasses
@testable import BNConvVerify
@testable import BNConvPipeline
@testable import BNConvTestSupport

/// The rewrite pipeline end to end on real Keras fixtures: what it decides, what it writes, and
/// the gate between verification and writing.
final class RewritePipelineTests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testVerifiedFoldWritesTheFoldedModelAndReportsEveryBatchNorm() throws {
        let input = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let output = try scratch().appendingPathComponent("folded.h5").path
        let result = try RewritePipeline.run(RewriteRequest(input: input, output: output))
        XCTAssertEqual(result.format, .keras2H5)
        XCTAssertEqual(result.decisions.count, 6)
        XCTAssertEqual(result.foldedCount, 6, "\(result.decisions)")
        XCTAssertTrue(result.passed)
        XCTAssertTrue(result.written)
        XCTAssertLessThan(result.verification?.worst?.maxRel ?? 1, 1e-5)
        let written = try Checkpoint.read(output)
        XCTAssertEqual(written.batchNormIndices.count, 0, "no BatchNorm left in the written file")
        XCTAssertEqual(result.outputBytes, FileBytes.size(of: output))
        XCTAssertEqual(result.opsBefore["BatchNormalization"], 6)
        XCTAssertNil(result.opsAfter["BatchNormalization"])
    }

    /// `.pb` files holding constant tf.conds fold with verification (the engine runs the taken
    /// branches): the BN outside a cond (a `training=False` layer) or in the taken branch of a
    /// cond on a Const folds, the others are kept with their reasons, and the written file reads
    /// back answering as the original.
    func testVerifiedFoldOfConstantTfConds() throws {
        let dir = try scratch()
        for (name, folded) in [("cond_training_flag", "bn3/FusedBatchNormV3"), ("cond_const_pred", "pick/bn_a")] {
            let output = dir.appendingPathComponent("\(name).pb").path
            let result = try RewritePipeline.run(RewriteRequest(input: TensorFlowFixtures.graph(name), output: output))
            XCTAssertTrue(result.passed, name)
            XCTAssertTrue(result.written, name)
            XCTAssertEqual(result.decisions.filter(\.folds).map(\.batchNorm), [folded], name)
            XCTAssertLessThan(result.verification?.worst?.maxRel ?? 1, 1e-5, name)
            let kept = result.decisions.filter { !$0.folds }
            XCTAssertFalse(kept.isEmpty, name)
            for decision in kept { XCTAssertFalse((decision.reason ?? "").isEmpty, "\(name): \(decision.batchNorm)") }
            let verdict = try RewritePipeline.run(RewriteRequest(input: output, output: dir.appendingPathComponent("\(name).again.pb").path))
            XCTAssertTrue(verdict.passed, name)
        }
    }

    func testStreamingFoldWritesTheSameModelAsTheVerifiedFold() throws {
        let input = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let dir = try scratch()
        let verified = dir.appendingPathComponent("verified.h5").path
        let streamed = dir.appendingPathComponent("streamed.h5").path
        _ = try RewritePipeline.run(RewriteRequest(input: input, output: verified))
        let result = try RewritePipeline.run(RewriteRequest(input: input, output: streamed, verification: nil,
                                                            strategy: .streaming(deferredMinimumBytes: 0)))
        XCTAssertNil(result.verification)
        XCTAssertEqual(result.foldedCount, 6)
        // The streaming writer lays the datasets out in another order (reserved contiguous storage
        // written beside HDF5), so the files differ as bytes; every weight and the graph must not.
        let a = try Checkpoint.read(verified), b = try Checkpoint.read(streamed)
        XCTAssertEqual(b.nodes.map(\.name), a.nodes.map(\.name))
        XCTAssertEqual(b.nodes.map(\.op), a.nodes.map(\.op))
        XCTAssertEqual(b.nodes.map(\.weights), a.nodes.map(\.weights), "every weight deferred, the weights are the verified fold's")
        XCTAssertFalse(a.nodes.flatMap(\.weights).isEmpty)
    }

    func testAFailedVerificationWritesNothingUnlessForced() throws {
        let input = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let dir = try scratch()
        let output = dir.appendingPathComponent("folded.h5").path
        // A tolerance no float32 fold meets: verification fails, so nothing may be written.
        let strict = VerificationSettings(randomRuns: 1, tolerance: 0)
        let refused = try RewritePipeline.run(RewriteRequest(input: input, output: output, verification: strict))
        XCTAssertFalse(refused.passed)
        XCTAssertFalse(refused.written)
        XCTAssertNil(refused.outputBytes)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        let forced = try RewritePipeline.run(RewriteRequest(input: input, output: output, verification: strict, force: true))
        XCTAssertFalse(forced.passed)
        XCTAssertTrue(forced.written)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output))
    }

    func testKeepNamingNoLayerIsAUsageError() throws {
        let input = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let output = try scratch().appendingPathComponent("folded.h5").path
        XCTAssertThrowsError(try RewritePipeline.run(RewriteRequest(input: input, output: output, keep: ["stem_bn", "no_such_bn"]))) { error in
            XCTAssertEqual((error as? UsageError)?.message,
                           "--keep names no layer of \(input): no_such_bn (bnconv inspect \(input) lists its BatchNorm layers)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testKeptBatchNormStaysAndTheRestFold() throws {
        let input = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let output = try scratch().appendingPathComponent("folded.h5").path
        let result = try RewritePipeline.run(RewriteRequest(input: input, output: output, keep: ["stem_bn"]))
        XCTAssertEqual(result.foldedCount, 5)
        XCTAssertEqual(result.decisions.first { $0.batchNorm == "stem_bn" }?.folds, false)
        XCTAssertEqual(try Checkpoint.read(output).batchNormIndices.count, 1)
    }

    func testAModelWithNothingToFoldWritesNothing() throws {
        let input = FixturePaths.url("keras/conv_relu_bn/keras2.h5").path
        let output = try scratch().appendingPathComponent("copy.h5").path
        let result = try RewritePipeline.run(RewriteRequest(input: input, output: output))
        XCTAssertEqual(result.foldedCount, 0, "a ReLU stands between the conv and the BN")
        XCTAssertTrue(result.nothingToFold)
        XCTAssertFalse(result.written)
        XCTAssertNil(result.verification, "nothing changed: nothing to verify")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testONNXExportIsVerifiedAgainstTheOriginalAndNamesTheBoundary() throws {
        let input = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let output = try scratch().appendingPathComponent("model.onnx").path
        let result = try RewritePipeline.run(RewriteRequest(input: input, output: output, fold: false,
                                                            conversion: .onnx(inputsAsNHWC: false)))
        XCTAssertTrue(result.passed, "\(String(describing: result.verification))")
        XCTAssertEqual(result.conversion?.opset, ONNXExporter.baseOpset)
        XCTAssertEqual(result.conversion?.boundary.inputs, [[0, 3, 1, 2]], "the ONNX model takes NCHW input")
        XCTAssertEqual(try Checkpoint.read(output).format, .onnx)
        XCTAssertEqual(result.runReport.command, "convert")
    }

    func testProgressReportsTheReadAndTheVerificationStage() throws {
        let input = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let output = try scratch().appendingPathComponent("folded.h5").path
        var events: [String] = []
        _ = try RewritePipeline.run(RewriteRequest(input: input, output: output)) { event in
            switch event {
            case .readFinished: events.append("read")
            case .started(let stage, let total, _): events.append("\(stage) \(total)")
            case .advanced: break
            case .finished: events.append("end")
            }
        }
        XCTAssertEqual(events, ["read", "verify 2", "end"])
    }
}
