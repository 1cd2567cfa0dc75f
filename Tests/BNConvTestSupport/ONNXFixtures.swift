import Foundation
import XCTest
@testable import BNConvModel
@testable import BNConvFormats

/// The ONNX fixtures in Tests/Fixtures/onnx (written by tools/fixtures/make_onnx_fixtures.py).
enum ONNXFixtures {
    /// Cases with a model, an input, onnxruntime's output and facts.
    static let cases = ["conv_bn", "conv_nobias_bn", "grouped_conv_bn", "depthwise_conv_bn", "conv_transpose_bn", "conv_transpose_add_bn",
                        "gemm_transb_bn", "gemm_bn", "matmul_add_bn", "matmul_bn", "bn_training", "conv_bn_branch", "small_cnn", "mobilenet_block",
                        "shared_weight", "constant_nodes", "same_padding", "bn_before_conv", "ops_zoo", "opaque_op", "ir3_conv_bn",
                        "pplcnet_block"]
    /// Cases without input/output: every initializer encoding, a float16 Conv + BN, and a Conv + BN
    /// carrying metadata_props outside bnconv's schema.
    static let modelOnlyCases = ["initializers", "float16_conv_bn", "metadata"]

    /// The model path of a case.
    static func modelPath(_ name: String) -> String { FixturePaths.url("onnx/\(name)/model.onnx").path }

    /// The bytes of a case's model file.
    static func modelBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: modelPath(name))))
    }

    /// A case's facts.json as a dictionary.
    static func facts(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: FixturePaths.url("onnx/\(name)/facts.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Reads a case's model.
    static func read(_ name: String) throws -> Model { try ONNXReader.read(modelPath(name)) }
}
