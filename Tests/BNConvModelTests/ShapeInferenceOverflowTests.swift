@testable import BNConvModel
import XCTest

/// Shape inference computes with sizes a file declares: a product or sum past `Int.max` leaves
/// the dimension unknown instead of trapping (a Keras input of 2^62 channels into a depthwise
/// convolution, or a padding of 2^62, trapped `inspect`).
final class ShapeInferenceOverflowTests: XCTestCase {
    private func model(_ op: Op, input: [Int?]) -> Model {
        let nodes = [Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
                     Node(name: "n", op: op, inputs: ["x"], outputs: ["y"])]
        return Model(name: "m", format: .onnx, inputs: ["x"], outputs: ["y"], nodes: nodes,
                     values: ["x": ValueInfo(name: "x", shape: input)])
    }

    func testDepthwiseChannelsThatOverflowAreUnknown() {
        var conv = Convolution(rank: 2, filters: 0, kernelSize: [3, 3], padding: .same, layout: .channelsLast)
        conv.depthMultiplier = 2
        let shapes = ShapeInference.shapes(of: model(.depthwiseConv(conv), input: [nil, 8, 8, 1 << 62]))
        XCTAssertEqual(shapes["y"], [nil, 8, 8, nil])
        XCTAssertEqual(ShapeInference.shapes(of: model(.depthwiseConv(conv), input: [nil, 8, 8, 3]))["y"], [nil, 8, 8, 6])
    }

    func testPaddingThatOverflowsIsUnknown() {
        let pad = Op.pad(padding: [Pair(1 << 62, 1 << 62), Pair(1, 1)], layout: .channelsLast)
        XCTAssertEqual(ShapeInference.shapes(of: model(pad, input: [nil, 8, 8, 3]))["y"], [nil, nil, 10, 3])
    }
}
