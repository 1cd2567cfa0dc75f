@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

/// BatchNorm names, shapes and hyper-parameters per convention, for the nested fixture, checked
/// against the BN configs Keras reported (facts.json).
final class BatchNormNamingTests: XCTestCase {
    private var model: Model!
    private var facts: [[String: Any]] = []

    override func setUpWithError() throws {
        model = try Checkpoint.read(FixturePaths.url("keras/nested/keras2.h5").path)
        let json = try fixtureJSON("keras/nested/facts.json")
        facts = try XCTUnwrap((json["keras2"] as? [String: Any])?["batch_norms"] as? [[String: Any]])
    }

    private func kerasMomentum(_ path: String) throws -> Double {
        try XCTUnwrap(facts.first { $0["path"] as? String == path }?["momentum"] as? Double)
    }

    func testTorchNamesShapesAndMomentum() throws {
        let naming = BatchNormNaming(model: model, convention: .torch)
        XCTAssertEqual(naming.entries.map(\.layer), ["outer_bn", "inner_block/inner_bn"])
        let inner = naming.entries[1]
        XCTAssertEqual(inner.parameters.map(\.name), ["inner_block.inner_bn.weight", "inner_block.inner_bn.bias",
                                                      "inner_block.inner_bn.running_mean", "inner_block.inner_bn.running_var",
                                                      "inner_block.inner_bn.num_batches_tracked"])
        XCTAssertEqual(inner.parameters.map(\.shape), [[8], [8], [8], [8], []])
        XCTAssertEqual(inner.hyperparameters["momentum"] ?? .nan, 1 - (try kerasMomentum("inner_block/inner_bn")), accuracy: 1e-12)
        XCTAssertEqual(naming.entries[0].hyperparameters["momentum"] ?? .nan, 1 - (try kerasMomentum("outer_bn")), accuracy: 1e-12)
        XCTAssertEqual(inner.producer, "inner_block/inner_conv")
        XCTAssertEqual(inner.consumers, ["inner_block/inner_relu"])
    }

    func testSlimScopeIsTheProducerAndDecayIsKerasMomentum() throws {
        let inner = BatchNormNaming(model: model, convention: .slim).entries[1]
        XCTAssertEqual(inner.parameters.map(\.name).first, "inner_block/inner_conv/BatchNorm/gamma")
        XCTAssertEqual(inner.hyperparameters["decay"] ?? .nan, try kerasMomentum("inner_block/inner_bn"), accuracy: 1e-12)
    }

    func testOnnxKerasAndCaffe() throws {
        let onnx = BatchNormNaming(model: model, convention: .onnx).entries[0]
        XCTAssertEqual(onnx.parameters.map(\.name), ["outer_bn.scale", "outer_bn.B", "outer_bn.input_mean", "outer_bn.input_var"])
        let keras = BatchNormNaming(model: model, convention: .keras).entries[0]
        let expected = try XCTUnwrap(facts[0]["variables"] as? [[String: Any]]).compactMap { ($0["name"] as? String)?.replacingOccurrences(of: ":0", with: "") }
        XCTAssertEqual(keras.parameters.map(\.name), expected)
        let caffe = BatchNormNaming(model: model, convention: .caffe).entries[0]
        XCTAssertEqual(caffe.parameters.map(\.role), ["moving_mean", "moving_variance", "scale_factor", "gamma", "beta"])
        XCTAssertEqual(caffe.hyperparameters["moving_average_fraction"] ?? .nan, try kerasMomentum("outer_bn"), accuracy: 1e-12)
    }
}
