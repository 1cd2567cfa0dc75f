@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

final class KerasLayerMapperTests: XCTestCase {
    /// The zoo fixtures hold every layer and activation kind bnconv models: none may end up opaque.
    func testZooLayersAllMapToTypedOps() throws {
        for name in ["layers_zoo/keras2.h5", "layers_zoo/keras3.keras", "activations_zoo/keras2.h5", "activations_zoo/keras3.keras"] {
            let path = FixturePaths.url("keras/\(name)").path
            try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "\(name) not committed")
            let model = try Checkpoint.read(path)
            for node in model.nodes {
                if case .opaque(let type) = node.op { XCTFail("\(name): \(node.name) (\(type)) is opaque") }
            }
        }
    }

    func testActivationsFollowTheDialect() {
        XCTAssertEqual(KerasLayerMapper.activation(.string("hard_sigmoid"), dialect: .keras2), .hardSigmoid(slope: 0.2, offset: 0.5))
        XCTAssertEqual(KerasLayerMapper.activation(.string("hard_sigmoid"), dialect: .keras3), .hardSigmoid(slope: 1.0 / 6.0, offset: 0.5))
        XCTAssertEqual(KerasLayerMapper.activation(.string("silu"), dialect: .keras3), .swish)
        XCTAssertEqual(KerasLayerMapper.activation(nil, dialect: .keras3), .linear)
        XCTAssertNil(KerasLayerMapper.activation(.string("my_custom"), dialect: .keras3))
    }

    func testConvAttributesAndUnknownActivationMakesTheLayerOpaque() throws {
        let config = try XCTUnwrap(try JSONValue.parse(#"{"filters": 8, "kernel_size": [3, 1], "strides": 2, "padding": "same", "dilation_rate": [1, 1], "groups": 2, "use_bias": false, "activation": "relu", "data_format": "channels_first"}"#).objectValue)
        let op = KerasLayerMapper.op(className: "Conv2D", config: config, dialect: .keras3)
        XCTAssertEqual(op, .conv(Convolution(rank: 2, filters: 8, kernelSize: [3, 1], strides: [2, 2], padding: .same, groups: 2,
                                             useBias: false, activation: .relu(), layout: .channelsFirst)))
        var custom = config
        custom["activation"] = .string("my_custom")
        XCTAssertEqual(KerasLayerMapper.op(className: "Conv2D", config: custom, dialect: .keras3), .opaque(type: "Conv2D"))
        XCTAssertEqual(KerasLayerMapper.op(className: "MyLayer", config: config, dialect: .keras3), .opaque(type: "MyLayer"))
    }

    func testWeightRolesAndLayouts() {
        XCTAssertTrue(KerasLayerMapper.role(className: "DepthwiseConv2D", variable: "depthwise_kernel") == (.kernel, .hwcm))
        XCTAssertTrue(KerasLayerMapper.role(className: "DepthwiseConv2D", variable: "kernel") == (.kernel, .hwcm))
        XCTAssertTrue(KerasLayerMapper.role(className: "SeparableConv2D", variable: "depthwise_kernel") == (.depthwiseKernel, .hwcm))
        XCTAssertTrue(KerasLayerMapper.role(className: "SeparableConv2D", variable: "pointwise_kernel") == (.pointwiseKernel, .hwio))
        XCTAssertTrue(KerasLayerMapper.role(className: "Conv2DTranspose", variable: "kernel") == (.kernel, .hwoi))
        XCTAssertTrue(KerasLayerMapper.role(className: "Dense", variable: "kernel") == (.kernel, .io))
        XCTAssertTrue(KerasLayerMapper.role(className: "BatchNormalization", variable: "moving_mean") == (.movingMean, .vector))
    }

    func testBatchNormVariablesFollowCenterAndScale() throws {
        let noCenter = try XCTUnwrap(try JSONValue.parse(#"{"center": false, "scale": true}"#).objectValue)
        XCTAssertEqual(KerasLayerMapper.variableNames(className: "BatchNormalization", config: noCenter, count: 3),
                       ["gamma", "moving_mean", "moving_variance"])
        let noScale = try XCTUnwrap(try JSONValue.parse(#"{"center": true, "scale": false}"#).objectValue)
        XCTAssertEqual(KerasLayerMapper.variableNames(className: "BatchNormalization", config: noScale, count: 3),
                       ["beta", "moving_mean", "moving_variance"])
    }
}
