@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvPipeline
@testable import BNConvTestSupport
import XCTest

/// The PyTorch state dict of Keras fixtures: keys, shapes, and values under the documented transposes.
final class TorchStateDictTests: XCTestCase {
    private func read(_ name: String) throws -> Model {
        try Checkpoint.read(FixturePaths.url("keras/\(name)/keras2.h5").path)
    }

    func testConvBNFlattenDenseKeysShapesAndTransposes() throws {
        let model = try read("conv_bn_flatten_dense")
        let dict = try TorchStateDict.safeTensors(of: model)
        let conv = try XCTUnwrap(model.nodes.first { if case .conv = $0.op { return true } else { return false } })
        let kernel = try XCTUnwrap(conv.weight(.kernel)).tensor  // (kh, kw, in, out)
        let weight = try XCTUnwrap(dict["\(conv.name).weight"])
        XCTAssertEqual(weight.shape, [kernel.shape[3], kernel.shape[2], kernel.shape[0], kernel.shape[1]])
        XCTAssertEqual(weight.bytes, try kernel.transposed([3, 2, 0, 1]).bytes)
        let bn = try XCTUnwrap(model.node(named: model.nodes[model.batchNormIndices[0]].name))
        for (key, role) in [("weight", WeightRole.gamma), ("bias", .beta), ("running_mean", .movingMean), ("running_var", .movingVariance)] {
            XCTAssertEqual(dict["\(bn.name).\(key)"]?.bytes, bn.weight(role)?.tensor.bytes, key)
        }
        let tracked = try XCTUnwrap(dict["\(bn.name).num_batches_tracked"])
        XCTAssertEqual(tracked.dtype, .int64)
        XCTAssertEqual(tracked.shape, [])
        XCTAssertEqual(tracked.integers(), [0])
        // The Dense after Flatten: (out, in) with rows in NCHW flatten order (ConvertLayout's permutation).
        let dense = try XCTUnwrap(model.nodes.first { if case .dense = $0.op { return true } else { return false } })
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: model).model
        let permuted = try XCTUnwrap(converted.node(named: dense.name)?.weight(.kernel)).tensor
        XCTAssertEqual(dict["\(dense.name).weight"]?.bytes, try permuted.transposed([1, 0]).bytes)
        XCTAssertNotEqual(permuted.bytes, dense.weight(.kernel)?.tensor.bytes, "the rows must have been permuted")
    }

    func testDepthwiseSeparableAndTransposedShapes() throws {
        let depthwise = try read("depthwise_bn")
        let dw = try XCTUnwrap(depthwise.nodes.first { if case .depthwiseConv = $0.op { return true } else { return false } })
        let k = try XCTUnwrap(dw.weight(.kernel)).tensor
        XCTAssertEqual(try TorchStateDict.safeTensors(of: depthwise)["\(dw.name).weight"]?.shape,
                       [k.shape[2] * k.shape[3], 1, k.shape[0], k.shape[1]])

        let transposed = try read("conv2d_transpose_bn")
        let ct = try XCTUnwrap(transposed.nodes.first { if case .convTranspose = $0.op { return true } else { return false } })
        let tk = try XCTUnwrap(ct.weight(.kernel)).tensor  // (kh, kw, out, in)
        XCTAssertEqual(try TorchStateDict.safeTensors(of: transposed)["\(ct.name).weight"]?.shape,
                       [tk.shape[3], tk.shape[2], tk.shape[0], tk.shape[1]])

        let separable = try read("separable_bn")
        let sp = try XCTUnwrap(separable.nodes.first { if case .separableConv = $0.op { return true } else { return false } })
        let keys = try TorchStateDict.safeTensors(of: separable).entries.map(\.name)
        XCTAssertTrue(keys.contains("\(sp.name).depthwise.weight"), "\(keys)")
        XCTAssertTrue(keys.contains("\(sp.name).pointwise.weight"), "\(keys)")
    }

    func testNestedLayersUseDots() throws {
        let keys = try TorchStateDict.safeTensors(of: try read("nested")).entries.map(\.name)
        XCTAssertTrue(keys.contains("inner_block.inner_bn.running_var"), "\(keys)")
        XCTAssertTrue(keys.contains("inner_block.inner_conv.weight"), "\(keys)")
    }
}
