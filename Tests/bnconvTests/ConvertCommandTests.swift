@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvInterop
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Runs `bnconv convert` on committed Keras fixtures: ONNX and safetensors exports that load back
/// and answer like Keras, refusals with exit statuses 1, 2 and 3, and nothing written on failure.
final class ConvertCommandTests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-convert-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        addTeardownBlock { [scratch] in try? FileManager.default.removeItem(at: scratch!) }
    }

    private func fixture(_ relative: String) -> String { ConvertCommandTests.fixtures.appendingPathComponent(relative).path }
    private func out(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    func testONNXExportRunsLikeKerasWithoutTranspose() throws {
        let target = out("m.onnx")
        let result = try CLIRunner.run(["convert", fixture("keras/conv_bn_flatten_dense/keras2.h5"), "-o", target])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("PASS"), result.stdout)
        let model = try ONNXReader.read(target)
        XCTAssertFalse(model.nodes.contains { if case .permute = $0.op { return true } else { return false } }, model.dump())
        XCTAssertEqual(model.batchNormIndices.count, 1)
        let input = try NumPyFile.read(fixture("keras/conv_bn_flatten_dense/input.npy")).transposed([0, 3, 1, 2])
        let output = try ModelRunner(model: model).run([input])
        let expected = try NumPyFile.read(fixture("keras/conv_bn_flatten_dense/output_keras2.npy"))
        XCTAssertEqual(output.first?.shape, expected.shape)
        XCTAssertLessThanOrEqual(relativeError(try XCTUnwrap(output.first).floats(), expected.floats()), 1e-5)
    }

    func testFoldedExportJSONAndNoBatchNorm() throws {
        let target = out("folded.onnx")
        let result = try CLIRunner.run(["convert", fixture("keras/mini_resnet/keras3.keras"), "-o", target, "--fold", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["target"] as? String, "onnx")
        XCTAssertEqual(object["opset"] as? Int, 17)
        XCTAssertEqual(object["inputPermutations"] as? [[Int]], [[0, 3, 1, 2]])
        XCTAssertGreaterThan(object["folded"] as? Int ?? 0, 0)
        XCTAssertEqual(try ONNXReader.read(target).batchNormIndices.count, 0)
    }

    func testReexportKeepsEveryWeightBitForBit() throws {
        let first = out("a.onnx"), second = out("b.onnx")
        XCTAssertEqual(try CLIRunner.run(["convert", fixture("keras/separable_bn/keras2.h5"), "-o", first, "-q"]).status, 0)
        let again = try CLIRunner.run(["convert", first, "-o", second, "-q"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let a = try ONNXReader.read(first), b = try ONNXReader.read(second)
        XCTAssertEqual(a.nodes.count, b.nodes.count)
        for (x, y) in zip(a.nodes, b.nodes) {
            XCTAssertEqual(x.weights.map(\.tensor), y.weights.map(\.tensor), x.name)
        }
    }

    func testSafetensorsExport() throws {
        let target = out("m.safetensors")
        let result = try CLIRunner.run(["convert", fixture("keras/nested/keras2.h5"), "-o", target, "--naming", "torch"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let file = try SafeTensorsFile.read(target)
        XCTAssertEqual(file["inner_block.inner_bn.running_var"]?.shape, [8])
        XCTAssertEqual(file["inner_block.inner_bn.num_batches_tracked"]?.dtype, .int64)
        XCTAssertEqual(file.metadata["format"], "pt")
    }

    func testKerasLayoutChangeIsVerifiedAndWritten() throws {
        let target = out("nchw.h5")
        let result = try CLIRunner.run(["convert", fixture("keras/mini_resnet/keras2.h5"), "-o", target, "--layout", "nchw"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("PASS"), result.stdout)
        let back = try Checkpoint.read(target)
        XCTAssertEqual(back.values[back.inputs[0]]?.layout, .channelsFirst)
        XCTAssertEqual(back.values[back.inputs[0]]?.shape?.dropFirst().map { $0 }, [3, 16, 16].map { Optional($0) })
    }

    /// A 3-D input kept in its layout: convert's own re-read verification feeds it channels-last
    /// (the file's boundary `Permute([2, 1])` is its own inverse; its readers tell which way it goes).
    func testConv1DKeepIOLayoutVerifiesWithTheInputItKeeps() throws {
        for file in ["keras/conv1d_bn/keras2.h5", "keras/conv1d_nobias_bn/keras3.keras"] {
            let target = out("keepio_" + URL(fileURLWithPath: file).lastPathComponent)
            let result = try CLIRunner.run(["convert", fixture(file), "-o", target, "--layout", "nchw", "--keep-io-layout", "--json"])
            XCTAssertEqual(result.status, 0, "\(file): \(result.stderr)")
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], file)
            XCTAssertEqual((object["inputPermutations"] as? [Any])?.count, 1, file)
            XCTAssertTrue((object["inputPermutations"] as? [Any])?.first is NSNull, "\(file): \(object["inputPermutations"] ?? "")")
            let back = try Checkpoint.read(target)
            XCTAssertEqual(back.values[back.inputs[0]]?.layout ?? .channelsLast, .channelsLast, file)
            let input = try NumPyFile.read(fixture(file.replacingOccurrences(of: URL(fileURLWithPath: file).lastPathComponent, with: "input.npy")))
            let expected = try XCTUnwrap(try ModelRunner(model: try Checkpoint.read(fixture(file))).run([input]).first, file)
            let actual = try XCTUnwrap(try ModelRunner(model: back).run([input]).first, file)
            XCTAssertEqual(actual.shape, expected.shape, file)
            XCTAssertLessThanOrEqual(relativeError(actual.floats(), expected.floats()), 1e-5, file)
        }
    }

    /// TensorFlow graphs with a Conv1D sandwich and decomposed BatchNorms convert to NCHW and verify.
    func testGraphDefConv1DAndDecomposedBatchNormConvertToNCHW() throws {
        for (name, permutation) in [("conv1d_bn", [0, 2, 1]), ("keras3", [0, 3, 1, 2])] {
            let target = out("\(name)_nchw.pb")
            let result = try CLIRunner.run(["convert", fixture("tensorflow/\(name)/graph.pb"), "-o", target, "--layout", "nchw", "--json"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], name)
            XCTAssertEqual(object["inputPermutations"] as? [[Int]], [permutation], name)
            XCTAssertEqual((object["verification"] as? [String: Any])?["passed"] as? Bool, true, name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: target), name)
        }
    }

    /// An NCHW ONNX model converted to NCHW is unchanged: the same-format path writes it back byte for byte.
    func testSameLayoutSameFormatIsByteIdentical() throws {
        let source = fixture("onnx/conv_bn/model.onnx"), target = out("same.onnx")
        let result = try CLIRunner.run(["convert", source, "-o", target, "--layout", "nchw"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), try Data(contentsOf: URL(fileURLWithPath: source)))
    }

    /// `--layout` of an ONNX model moves its interface only: to NHWC through inserted transposes
    /// (verified, read back with channels-last interface), and back to NCHW by removing them, which
    /// gives the original file byte for byte.
    func testONNXLayoutRoundTripIsByteIdentical() throws {
        let source = fixture("onnx/conv_bn/model.onnx"), nhwc = out("nhwc.onnx"), back = out("back.onnx")
        let first = try CLIRunner.run(["convert", source, "-o", nhwc, "--layout", "nhwc", "--json"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["inputPermutations"] as? [[Int]], [[0, 2, 3, 1]])
        XCTAssertEqual((object["verification"] as? [String: Any])?["passed"] as? Bool, true)
        let written = try Checkpoint.read(nhwc)
        XCTAssertEqual(written.values[written.inputs[0]]?.layout, .channelsLast)
        XCTAssertEqual(written.values[written.inputs[0]]?.shape, [nil, 6, 6, 3])
        XCTAssertEqual(written.values[written.outputs[0]]?.layout, .channelsLast)
        XCTAssertEqual(written.nodes.filter { if case .permute = $0.op { return true } else { return false } }.count, 2)
        let second = try CLIRunner.run(["convert", nhwc, "-o", back, "--layout", "nchw"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: back)), try Data(contentsOf: URL(fileURLWithPath: source)))
    }

    /// tf2onnx's NHWC interface becomes NCHW: both transposes and the value_info that described the
    /// output's old shape are gone; the result answers like onnxruntime did on the original.
    func testONNXNHWCInterfaceToNCHW() throws {
        let target = out("nchw.onnx")
        let result = try CLIRunner.run(["convert", fixture("onnx/nhwc_interface/model.onnx"), "-o", target, "--layout", "nchw"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let model = try Checkpoint.read(target)
        XCTAssertFalse(model.nodes.contains { if case .permute = $0.op { return true } else { return false } })
        XCTAssertEqual(model.values[model.inputs[0]]?.shape, [nil, 3, 6, 5])
        let record = try XCTUnwrap(model.source as? ONNXModelRecord)
        XCTAssertEqual(record.proto.outputs.first?.dims?.count, 4)
        XCTAssertFalse(record.proto.valueInfos.contains { $0.name == model.outputs[0] })
        let x = try NumPyFile.read(fixture("onnx/nhwc_interface/input.npy"))
        let y = try XCTUnwrap(ModelRunner(model: model).run([try x.transposed([0, 3, 1, 2])]).first)
        assertClose(try y.transposed([0, 2, 3, 1]), try NumPyFile.read(fixture("onnx/nhwc_interface/output.npy")))
    }

    func testONNXKeepIOLayoutIsRefused() throws {
        let target = out("kept.onnx")
        let result = try CLIRunner.run(["convert", fixture("onnx/conv_bn/model.onnx"), "-o", target, "--layout", "nhwc", "--keep-io-layout"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--keep-io-layout"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
    }

    func testVerificationFailureExitsThreeAndWritesNothing() throws {
        let target = out("strict.onnx")
        let result = try CLIRunner.run(["convert", fixture("keras/mini_resnet/keras2.h5"), "-o", target, "--fold", "--tolerance", "0"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("nothing was written"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
    }

    func testUsageErrors() throws {
        let noLayout = try CLIRunner.run(["convert", fixture("keras/mini_resnet/keras2.h5"), "-o", out("x.bin")])
        // ArgumentParser's validation exit code (64 today; ExitStatus.usage documents 2).
        XCTAssertFalse([0, 1, 3].contains(noLayout.status), noLayout.stderr)
        XCTAssertTrue(noLayout.stderr.contains("Usage"), noLayout.stderr)
        XCTAssertTrue(noLayout.stderr.contains("--layout"), noLayout.stderr)
        let badNaming = try CLIRunner.run(["convert", fixture("keras/mini_resnet/keras2.h5"), "-o", out("x.safetensors"), "--naming", "caffe"])
        XCTAssertEqual(badNaming.status, noLayout.status, badNaming.stderr)
        XCTAssertTrue(badNaming.stderr.contains("torch"), badNaming.stderr)
    }

    func testUnsupportedLayerIsNamed() throws {
        // A ReLU with a threshold has no ONNX op: the error names the layer and the file it is in.
        let result = try CLIRunner.run(["convert", fixture("keras/activations_zoo/keras2.h5"), "-o", out("zoo.onnx")])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("relu_custom"), result.stderr)
        XCTAssertTrue(result.stderr.contains(fixture("keras/activations_zoo/keras2.h5") + ": relu_custom"), result.stderr)
        XCTAssertFalse(result.stderr.contains("zoo.onnx"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out("zoo.onnx")))
    }

    func testTFOpLambdaModelsExportAndAnUnknownFunctionIsNamed() throws {
        // tf_keras's TFOpLambda layers (x + 3, tf.nn.relu6, ...) export and answer like tf_keras.
        let target = out("v3.onnx")
        let result = try CLIRunner.run(["convert", fixture("keras/mini_mobilenetv3/keras2.h5"), "-o", target, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let permutation = ((summary["inputPermutations"] as? [Any])?.first as? [Int]) ?? [0, 1, 2, 3]
        let model = try ONNXReader.read(target)
        let input = try NumPyFile.read(fixture("keras/mini_mobilenetv3/input.npy")).transposed(permutation)
        let output = try XCTUnwrap(try ModelRunner(model: model).run([input]).first)
        let expected = try NumPyFile.read(fixture("keras/mini_mobilenetv3/output_keras2.npy"))
        XCTAssertEqual(output.shape, expected.shape)
        XCTAssertLessThanOrEqual(relativeError(output.floats(), expected.floats()), 1e-5)
        // A function bnconv does not map: refused naming the function, the layer and the input file.
        let text = try String(contentsOfFile: fixture("keras/oplambda_zoo/keras2.json"), encoding: .utf8)
        XCTAssertTrue(text.contains("\"function\": \"math.tanh\""))
        let config = out("cumsum.json")
        try text.replacingOccurrences(of: "\"function\": \"math.tanh\"", with: "\"function\": \"math.cumsum\"")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let weights = fixture("keras/oplambda_zoo/keras2_weights.h5")
        let refused = try CLIRunner.run(["convert", weights, "--config", config, "-o", out("cumsum.onnx")])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("\(weights): tf.math.tanh: TFOpLambda 'math.cumsum' cannot be exported to ONNX"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out("cumsum.onnx")))
        let run = try CLIRunner.run(["run", weights, "--config", config, "--input", fixture("keras/oplambda_zoo/input.npy"), "-o", out("y.npy")])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("TFOpLambda 'math.cumsum' is not supported (node 'tf.math.tanh')"), run.stderr)
    }

    func testInspectNamingTextAndJSON() throws {
        let text = try CLIRunner.run(["inspect", fixture("keras/nested/keras2.h5"), "--naming", "slim"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("inner_block/inner_conv/BatchNorm/moving_variance"), text.stdout)
        let json = try CLIRunner.run(["inspect", fixture("keras/nested/keras2.h5"), "--naming", "torch", "--json"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let naming = try XCTUnwrap(object["naming"] as? [String: Any])
        XCTAssertEqual(naming["convention"] as? String, "torch")
        XCTAssertEqual((naming["entries"] as? [Any])?.count, 2)
        XCTAssertNotNil(object["batchNorms"])
    }
}

/// The largest |a - b| relative to max|b|.
private func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    let scale = Double(b.map { abs($0) }.max() ?? 1)
    return Double(zip(a, b).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-30)
}
