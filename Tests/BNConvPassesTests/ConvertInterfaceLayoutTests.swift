@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

/// ONNX models change the layout of their inputs and outputs only: tf2onnx's boundary transposes
/// removed, or transposes inserted; every layer, weight and attribute kept. The numbers come from
/// onnxruntime (`tools/fixtures/make_onnx_fixtures.py`).
final class ConvertInterfaceLayoutTests: XCTestCase {
    private func read(_ name: String) throws -> Model {
        try Checkpoint.read(FixturePaths.url("onnx/\(name)/model.onnx").path)
    }

    private func run(_ model: Model, _ input: Tensor) throws -> Tensor {
        try XCTUnwrap(ModelRunner(model: model).run([input]).first)
    }

    /// What the reader declares: an NHWC interface behind tf2onnx-style transposes is channels-last.
    func testReaderDeclaresTransposedInterfaceChannelsLast() throws {
        let model = try read("nhwc_interface")
        XCTAssertEqual(model.values[model.inputs[0]]?.layout, .channelsLast)
        XCTAssertEqual(model.values[model.outputs[0]]?.layout, .channelsLast)
        let plain = try read("conv_bn")
        XCTAssertEqual(plain.values[plain.inputs[0]]?.layout, .channelsFirst)
        XCTAssertEqual(plain.values[plain.outputs[0]]?.layout, .channelsFirst)
    }

    func testNHWCInterfaceToNCHWRemovesTheTransposes() throws {
        let model = try read("nhwc_interface")
        let result = ConvertInterfaceLayout(target: .channelsFirst).apply(to: model)
        XCTAssertEqual(result.removedTransposes.sorted(), ["input_to_nchw", "output_to_nhwc"])
        XCTAssertTrue(result.insertedTransposes.isEmpty)
        let converted = result.model
        XCTAssertFalse(converted.nodes.contains { if case .permute = $0.op { return true } else { return false } })
        XCTAssertEqual(converted.outputs, model.outputs)
        XCTAssertEqual(converted.values[converted.inputs[0]]?.shape, [nil, 3, 6, 5])
        XCTAssertEqual(converted.values[converted.inputs[0]]?.layout, .channelsFirst)
        XCTAssertEqual(converted.values[converted.outputs[0]]?.layout, .channelsFirst)
        XCTAssertNoThrow(try converted.validate())
        // onnxruntime's output of the NHWC model, fed and read through the boundary permutations.
        let x = try fixtureArray("onnx/nhwc_interface/input.npy")
        let expected = try fixtureArray("onnx/nhwc_interface/output.npy")
        let boundary = LayoutBoundary(source: model, converted: converted)
        XCTAssertEqual(boundary.inputs, [[0, 3, 1, 2]])
        XCTAssertEqual(boundary.outputs, [[0, 3, 1, 2]])
        let y = try run(converted, try x.transposed([0, 3, 1, 2]))
        assertClose(try y.transposed(LayoutBoundary.inverse([0, 3, 1, 2])), expected)
    }

    func testNCHWToNHWCInsertsTransposesAndKeepsNames() throws {
        let model = try read("conv_bn")
        let result = ConvertInterfaceLayout(target: .channelsLast).apply(to: model)
        XCTAssertEqual(result.insertedTransposes.count, 2)
        XCTAssertTrue(result.removedTransposes.isEmpty)
        let converted = result.model
        XCTAssertEqual(converted.inputs, model.inputs)
        XCTAssertEqual(converted.outputs, model.outputs)
        XCTAssertEqual(converted.values[converted.inputs[0]]?.layout, .channelsLast)
        XCTAssertEqual(converted.values[converted.outputs[0]]?.layout, .channelsLast)
        XCTAssertNoThrow(try converted.validate())
        let x = try fixtureArray("onnx/conv_bn/input.npy")
        let expected = try fixtureArray("onnx/conv_bn/output.npy")
        let y = try run(converted, try x.transposed([0, 2, 3, 1]))
        assertClose(y, try expected.transposed([0, 2, 3, 1]))
        // Back again: the same model as read, its transposes gone.
        let back = ConvertInterfaceLayout(target: .channelsFirst).apply(to: converted)
        XCTAssertEqual(back.removedTransposes.sorted(), result.insertedTransposes.sorted())
        XCTAssertEqual(back.model.nodes.map(\.name), model.nodes.map(\.name))
    }

    /// A rank-2 output (a classifier's) has no layout to change; the input still gets its transpose.
    func testRankTwoOutputIsLeftAlone() throws {
        let model = try read("small_cnn")
        let result = ConvertInterfaceLayout(target: .channelsLast).apply(to: model)
        XCTAssertEqual(result.insertedTransposes.count, 1)
        XCTAssertEqual(result.model.outputs, model.outputs)
        let x = try fixtureArray("onnx/small_cnn/input.npy")
        assertClose(try run(result.model, try x.transposed([0, 2, 3, 1])), try fixtureArray("onnx/small_cnn/output.npy"))
    }

    /// Inputs of rank 0 to 3 (a scalar Gemm bias, from the onnx node tests) have no interface
    /// layout: read and converted without a change.
    func testLowRankInputsAreLeftAlone() throws {
        let model = try Checkpoint.read(FixturePaths.url("onnx_node/test_gemm_default_scalar_bias/model.onnx").path)
        XCTAssertTrue(model.inputs.contains { model.values[$0]?.shape?.count == 0 })
        for target in [DataLayout.channelsFirst, .channelsLast] {
            XCTAssertFalse(ConvertInterfaceLayout(target: target).apply(to: model).changed)
        }
    }

    func testAlreadyInTheTargetLayoutChangesNothing() throws {
        for (name, target) in [("nhwc_interface", DataLayout.channelsLast), ("conv_bn", .channelsFirst), ("small_cnn", .channelsFirst)] {
            let model = try read(name)
            let result = ConvertInterfaceLayout(target: target).apply(to: model)
            XCTAssertFalse(result.changed, name)
            XCTAssertEqual(result.model.nodes.map(\.name), model.nodes.map(\.name), name)
        }
    }
}
