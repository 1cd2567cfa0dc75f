@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// Zero padding folded into the convolution or max pooling reading it: which pairs fold, and that
/// a folded run gives the numbers of the pad and its consumer run one by one (an observer turns
/// folding off), in both layouts.
final class PadFoldingTests: XCTestCase, EngineTestData {
    private let relu = Activation.relu(maxValue: nil, threshold: 0, negativeSlope: 0)

    private func conv(_ padding: Padding, layout: DataLayout, stride: Int = 2, cin: Int = 3, filters: Int = 8) throws -> Node {
        let hwio = Tensor(shape: [3, 3, cin, filters], floats: values(9 * cin * filters, seed: 3))
        let first = layout == .channelsFirst
        let attributes = Convolution(rank: 2, filters: filters, kernelSize: [3, 3], strides: [stride, stride],
                                     padding: padding, layout: layout)
        return Node(name: "conv", op: .conv(attributes), inputs: ["p"], outputs: ["y"],
                    weights: [Weight(role: .kernel, tensor: first ? try hwio.transposed([3, 2, 0, 1]) : hwio,
                                     layout: first ? .oihw : .hwio, storageKey: "k"),
                              Weight(role: .bias, tensor: Tensor(shape: [filters], floats: values(filters, seed: 4)),
                                     storageKey: "b")])
    }

    private func pool(_ kind: Pool.Kind, _ padding: Padding = .valid, layout: DataLayout) -> Node {
        Node(name: "pool", op: .pool(Pool(kind: kind, poolSize: [3, 3], strides: [2, 2], padding: padding, layout: layout)),
             inputs: ["p"], outputs: ["y"])
    }

    /// `x -> [relu ->] pad -> consumer` with `consumer` reading `p` and writing `y`.
    private func model(_ consumer: Node, pad: [Pair] = [Pair(1, 2), Pair(2, 1)], layout: DataLayout,
                       reluFirst: Bool, extraOutputs: [String] = []) -> Model {
        var nodes: [Node] = []
        if reluFirst { nodes.append(Node(name: "relu", op: .activation(relu), inputs: ["x"], outputs: ["r"])) }
        nodes.append(Node(name: "pad", op: .pad(padding: pad, layout: layout), inputs: [reluFirst ? "r" : "x"], outputs: ["p"]))
        nodes.append(consumer)
        return Model(name: "m", format: .onnx, inputs: ["x"], outputs: ["y"] + extraOutputs, nodes: nodes, values: [:])
    }

    private func input(_ layout: DataLayout) -> Tensor {
        let dims = layout == .channelsFirst ? [2, 3, 11, 9] : [2, 11, 9, 3]
        return Tensor(shape: dims, floats: values(dims.reduce(1, *), seed: 9))
    }

    /// The folded and unfolded runs agree exactly; returns the nodes the folded run ran.
    private func assertFoldedEqualsUnfolded(_ model: Model, _ layout: DataLayout, _ message: String,
                                            file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let runner = try ModelRunner(model: model, options: RunOptions(recordsNodeTimes: true))
        let x = input(layout)
        let folded = try runner.run([x])
        let ran = runner.lastNodeTimes.map(\.node)
        let unfolded = try runner.run([x], observe: { _, _ in })
        XCTAssertEqual(folded.map(\.shape), unfolded.map(\.shape), message, file: file, line: line)
        XCTAssertEqual(folded, unfolded, message, file: file, line: line)
        return ran
    }

    func testPaddingFoldsIntoAValidOrExplicitConvolution() throws {
        for layout in [DataLayout.channelsFirst, .channelsLast] {
            for padding in [Padding.valid, .explicit([Pair(1, 0), Pair(0, 2)])] {
                let m = model(try conv(padding, layout: layout), layout: layout, reluFirst: false)
                let ran = try assertFoldedEqualsUnfolded(m, layout, "\(layout) \(padding)")
                XCTAssertEqual(ran, ["conv"], "\(layout) \(padding): the pad did not run")
            }
            // SAME padding depends on the padded size: left alone.
            let same = model(try conv(.same, layout: layout), layout: layout, reluFirst: false)
            XCTAssertEqual(try assertFoldedEqualsUnfolded(same, layout, "\(layout) same"), ["pad", "conv"])
        }
    }

    func testPaddingFoldsIntoAMaxPoolingOnlyAfterANonNegativeActivation() throws {
        for layout in [DataLayout.channelsFirst, .channelsLast] {
            let afterReLU = model(pool(.max, layout: layout), layout: layout, reluFirst: true)
            XCTAssertEqual(try assertFoldedEqualsUnfolded(afterReLU, layout, "\(layout) relu"), ["relu", "pool"])
            // Negative inputs: a zero in the padding can be the maximum.
            let raw = model(pool(.max, layout: layout), layout: layout, reluFirst: false)
            XCTAssertEqual(try assertFoldedEqualsUnfolded(raw, layout, "\(layout) raw"), ["pad", "pool"])
            // The average would count the padded zeros.
            let average = model(pool(.average, layout: layout), layout: layout, reluFirst: true)
            XCTAssertEqual(try assertFoldedEqualsUnfolded(average, layout, "\(layout) average"), ["relu", "pad", "pool"])
            // A window wholly in the padding would see -inf instead of 0.
            let wide = model(pool(.max, layout: layout), pad: [Pair(3, 0), Pair(0, 0)], layout: layout, reluFirst: true)
            XCTAssertEqual(try assertFoldedEqualsUnfolded(wide, layout, "\(layout) wide"), ["relu", "pad", "pool"])
        }
    }

    func testAPaddedValueReadElsewhereIsNotFolded() throws {
        let layout = DataLayout.channelsFirst
        let kept = model(try conv(.valid, layout: layout), layout: layout, reluFirst: false, extraOutputs: ["p"])
        XCTAssertEqual(try assertFoldedEqualsUnfolded(kept, layout, "model output"), ["pad", "conv"])
        var twice = model(try conv(.valid, layout: layout), layout: layout, reluFirst: false)
        twice.nodes.append(Node(name: "other", op: .activation(.tanh), inputs: ["p"], outputs: ["t"]))
        twice.outputs.append("t")
        XCTAssertEqual(try assertFoldedEqualsUnfolded(twice, layout, "two readers"), ["pad", "conv", "other"])
    }

    func testTheFoldedOpAddsThePaddings() {
        let conv = Convolution(rank: 2, filters: 4, kernelSize: [3, 3], padding: .explicit([Pair(1, 1), Pair(0, 2)]),
                               layout: .channelsFirst)
        let folded = PadFolding.folded(.conv(conv), padding: [Pair(2, 0), Pair(1, 1)], layout: .channelsFirst,
                                       nonNegativeInput: false)
        guard case .conv(let c)? = folded else { return XCTFail("not folded: \(String(describing: folded))") }
        XCTAssertEqual(c.padding, .explicit([Pair(3, 1), Pair(1, 3)]))
        XCTAssertNil(PadFolding.folded(.conv(conv), padding: [Pair(1, 1), Pair(1, 1)], layout: .channelsLast,
                                       nonNegativeInput: false), "another layout")
        XCTAssertTrue(PadFolding.isNonNegative(.activation(.relu6)))
        XCTAssertFalse(PadFolding.isNonNegative(.activation(.relu(maxValue: nil, threshold: 0, negativeSlope: 0.1))))
        XCTAssertFalse(PadFolding.isNonNegative(.activation(.tanh)))
    }
}
