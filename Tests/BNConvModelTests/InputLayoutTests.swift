@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvTestSupport
import XCTest

/// The one rule for undeclared input layouts: every reader agrees, looking through layout-keeping
/// ops and boundary transposes (a rank-3 `[2, 1]` transpose goes either way).
final class InputLayoutTests: XCTestCase {
    private func conv(_ layout: DataLayout, rank: Int) -> Op {
        .conv(Convolution(rank: rank, filters: 2, kernelSize: Array(repeating: 1, count: rank), strides: Array(repeating: 1, count: rank),
                          dilations: Array(repeating: 1, count: rank), padding: .valid, useBias: false, layout: layout))
    }

    /// input -> [transpose dims] -> relu -> conv(layout); the input's shape has `rank` axes.
    private func model(rank: Int, transpose dims: [Int]?, convLayout: DataLayout) -> ([String: ValueInfo], [Node]) {
        var nodes = [Node(name: "x", op: .input, inputs: [], outputs: ["x"])]
        var last = "x"
        if let dims {
            nodes.append(Node(name: "t", op: .permute(permutation: dims), inputs: [last], outputs: ["t"]))
            last = "t"
        }
        nodes.append(Node(name: "r", op: .activation(.relu()), inputs: [last], outputs: ["r"]))
        nodes.append(Node(name: "c", op: conv(convLayout, rank: rank - 2), inputs: ["r"], outputs: ["c"]))
        let values = ["x": ValueInfo(name: "x", shape: Array(repeating: 4, count: rank))]
        return (values, nodes)
    }

    func testRankThreeBoundaryTransposeIsReadByWhatFollowsIt() {
        // --keep-io-layout wrote NWC input -> [2, 1] -> NCW conv: the input is channels-last.
        let (values, nodes) = model(rank: 3, transpose: [2, 1], convLayout: .channelsFirst)
        XCTAssertNil(InputLayout.marked(values, inputs: ["x"], nodes: nodes)["x"]?.layout)
        XCTAssertEqual(InputLayout.readersLayout(of: "x", rank: 3, consumers: InputLayout.consumerMap(nodes), positional: nil), .channelsLast)
        // NCW input -> [2, 1] -> NWC conv: the input is channels-first.
        let (values2, nodes2) = model(rank: 3, transpose: [2, 1], convLayout: .channelsLast)
        XCTAssertEqual(InputLayout.marked(values2, inputs: ["x"], nodes: nodes2)["x"]?.layout, .channelsFirst)
    }

    func testRankFourTransposesAndDirectReaders() {
        let (a, an) = model(rank: 4, transpose: [3, 1, 2], convLayout: .channelsFirst)   // NHWC -> NCHW conv
        XCTAssertNil(InputLayout.marked(a, inputs: ["x"], nodes: an)["x"]?.layout)
        let (b, bn) = model(rank: 4, transpose: [2, 3, 1], convLayout: .channelsLast)    // NCHW -> NHWC conv
        XCTAssertEqual(InputLayout.marked(b, inputs: ["x"], nodes: bn)["x"]?.layout, .channelsFirst)
        let (c, cn) = model(rank: 4, transpose: nil, convLayout: .channelsFirst)
        XCTAssertEqual(InputLayout.marked(c, inputs: ["x"], nodes: cn)["x"]?.layout, .channelsFirst)
    }

    func testPositionalReadersVoteOnlyForAFormatDefault() {
        var (values, nodes) = model(rank: 4, transpose: nil, convLayout: .channelsFirst)
        nodes.append(Node(name: "f", op: .flatten, inputs: ["x"], outputs: ["f"]))
        let consumers = InputLayout.consumerMap(nodes)
        XCTAssertNil(InputLayout.readersLayout(of: "x", rank: 4, consumers: consumers, positional: .channelsLast), "conv and Flatten disagree")
        XCTAssertEqual(InputLayout.readersLayout(of: "x", rank: 4, consumers: consumers, positional: nil), .channelsFirst)
        values = InputLayout.marked(values, inputs: ["x"], nodes: nodes)
        XCTAssertNil(values["x"]?.layout)
    }

    func testBatchNormAxisDecidesOnlyWhenNothingElseDoes() {
        let bn = BatchNorm(epsilon: 1e-3, axis: 1, center: true, scale: true, training: false, trainable: false)
        let only = [Node(name: "x", op: .input, inputs: [], outputs: ["x"]), Node(name: "b", op: .batchNorm(bn), inputs: ["x"], outputs: ["b"])]
        XCTAssertEqual(InputLayout.readersLayout(of: "x", rank: 4, consumers: InputLayout.consumerMap(only), positional: nil), .channelsFirst)
        // A BN on axis 1 followed by a channels-last conv normalizes another axis: the conv decides.
        let (_, nodes) = model(rank: 4, transpose: nil, convLayout: .channelsLast)
        let mixed = [nodes[0], Node(name: "b", op: .batchNorm(bn), inputs: ["x"], outputs: ["b"]),
                     Node(name: "c", op: conv(.channelsLast, rank: 2), inputs: ["b"], outputs: ["c"])]
        XCTAssertEqual(InputLayout.readersLayout(of: "x", rank: 4, consumers: InputLayout.consumerMap(mixed), positional: nil), .channelsLast)
    }
}
