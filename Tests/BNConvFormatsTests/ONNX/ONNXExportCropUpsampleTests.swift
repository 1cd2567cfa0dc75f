import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Keras Cropping and UpSampling exported to ONNX (`Slice`, `Resize`) in either layout, read back
/// and run on the engine, give the outputs TensorFlow recorded for the layer
/// (Tests/Fixtures/engine/kernels: crop, upsample_nearest, upsample_bilinear).
final class ONNXExportCropUpsampleTests: XCTestCase {
    func testCropAndUpsampleMatchTensorFlowInEitherLayout() throws {
        for name in ["crop", "upsample_nearest", "upsample_bilinear"] {
            let kernelCase = try KernelCase(name)
            for layout in [DataLayout.channelsLast, .channelsFirst] {
                let model = try kernelCase.model(layout)
                let graph = try TensorOpModels.export(model)
                XCTAssertEqual(graph.opCounts[name == "crop" ? "Slice" : "Resize"], 1, "\(name) \(layout): \(graph.opCounts)")
                XCTAssertEqual(graph.opCounts["Transpose"], layout == .channelsLast && name != "crop" ? 2 : nil, "\(name) \(layout)")
                let read = try ONNXReader.read(bytes: graph.bytes, file: "\(name).onnx")
                var out = try ModelRunner(model: read).run(try kernelCase.feeds(layout))[0]
                if layout == .channelsFirst { out = try out.transposed(Permutation.toChannelsLast(rank: out.rank)) }
                assertClose(out, kernelCase.expected, tolerance: 1e-6, "\(name) \(layout)")
            }
        }
    }

    func testAnotherInterpolationIsRefused() {
        let model = Model(name: "m", format: .kerasZip, inputs: ["x"], outputs: ["y"], nodes: [
            Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "up", op: .upsample(size: [2, 2], interpolation: "bicubic", layout: .channelsFirst), inputs: ["x"], outputs: ["y"]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, 3, 4, 4], layout: .channelsFirst)])
        XCTAssertThrowsError(try TensorOpModels.export(model)) { error in
            XCTAssertEqual((error as? CheckpointError)?.problem,
                           "UpSampling cannot be exported to ONNX: interpolation 'bicubic' has no ONNX Resize form in bnconv")
        }
    }
}
