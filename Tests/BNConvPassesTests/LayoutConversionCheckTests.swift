import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvTestSupport

/// ``LayoutConversionCheck`` accepts what ``ConvertLayout`` makes and refuses, naming the node,
/// each way a converted model (or the file it was written to, read back) can compute something
/// else: a BN left on its old axis, a conv fed the wrong transpose, a Dense whose rows were not
/// reordered, a created node that is not a transpose, a conv whose kernel reads other channels.
final class LayoutConversionCheckTests: XCTestCase {
    typealias M = FoldTestModels

    /// input (N, 4, 3, 2) -> conv 1x1 (3) -> bn (axis 3) -> flatten -> dense (5).
    /// The shared conv -> BN -> Flatten -> Dense model, with this file's seed.
    private func convBNFlattenDense(kernelInputChannels: Int = 2) -> Model {
        M.convBNFlattenDense(seed: 17, kernelInputChannels: kernelInputChannels)
    }

    private func assertRefused(_ original: Model, _ converted: Model, at node: String, _ words: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try LayoutConversionCheck(original: original, converted: converted).verify(), file: file, line: line) { error in
            guard let refusal = error as? LayoutConversionError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(refusal.node, node, "\(refusal)", file: file, line: line)
            XCTAssertTrue(refusal.problem.contains(words), "\(refusal)", file: file, line: line)
        }
    }

    func testAcceptsWhatThePassMakes() throws {
        let model = convBNFlattenDense()
        for keep in [false, true] {
            let converted = try ConvertLayout(target: .channelsFirst, keepIOLayout: keep).apply(to: model).model
            XCTAssertNoThrow(try LayoutConversionCheck(original: model, converted: converted).verify())
        }
    }

    func testRefusesABatchNormLeftOnItsOldAxis() throws {
        let model = convBNFlattenDense()
        var converted = try ConvertLayout(target: .channelsFirst).apply(to: model).model
        let i = try XCTUnwrap(converted.nodes.firstIndex { $0.name == "bn" })
        converted.nodes[i].op = .batchNorm(BatchNorm(epsilon: 1e-3, axis: 3))
        assertRefused(model, converted, at: "bn", "normalizes axis 3")
    }

    func testRefusesAConvReadingAnUntransposedInput() throws {
        let model = convBNFlattenDense()
        var converted = try ConvertLayout(target: .channelsFirst, keepIOLayout: true).apply(to: model).model
        let i = try XCTUnwrap(converted.nodes.firstIndex { $0.name == "conv" })
        XCTAssertNotEqual(converted.nodes[i].inputs, ["input"], "keep-io feeds the conv a transpose of the input")
        converted.nodes[i].inputs = ["input"]
        assertRefused(model, converted, at: "conv", "reads nchw")
    }

    func testRefusesDenseRowsLeftInTheirOldOrder() throws {
        let model = convBNFlattenDense()
        var converted = try ConvertLayout(target: .channelsFirst).apply(to: model).model
        let i = try XCTUnwrap(converted.nodes.firstIndex { $0.name == "dense" })
        converted.nodes[i].weights = try XCTUnwrap(model.node(named: "dense")).weights
        assertRefused(model, converted, at: "dense", "kernel rows are not reordered")
    }

    func testRefusesACreatedNodeThatIsNotATranspose() throws {
        let model = convBNFlattenDense()
        var converted = try ConvertLayout(target: .channelsFirst).apply(to: model).model
        let i = try XCTUnwrap(converted.nodes.firstIndex { $0.name == "bn" })
        converted.nodes.insert(Node(name: "extra", op: .activation(.relu()), inputs: ["conv"], outputs: ["extra"]), at: i)
        converted.nodes[i + 1].inputs = ["extra"]
        assertRefused(model, converted, at: "extra", "not a transpose")
    }

    /// A conv read with the wrong groups (a kernel reading 1 channel of an input with 2, groups 1)
    /// cannot be proven right after a conversion: refused before anything is written.
    func testRefusesAConvWhoseKernelReadsOtherChannelsThanItsInputHas() throws {
        let model = convBNFlattenDense(kernelInputChannels: 1)
        XCTAssertThrowsError(try ConvertLayout(target: .channelsFirst).apply(to: model)) { error in
            guard let refusal = error as? LayoutConversionError else { return XCTFail("\(error)") }
            XCTAssertEqual(refusal.node, "conv")
            XCTAssertTrue(refusal.problem.contains("2 channels in nchw, but its kernel reads 1"), refusal.problem)
        }
    }

    /// An op-library Sub of two values and the typed element-wise subtract are one op to the check
    /// (a reader picks one or the other by whether an operand is a Const, which a transpose hides).
    func testAnOpLibraryElementwiseOpAndTheTypedOneAreTheSame() throws {
        let nodes = [
            Node(name: "input", op: .input, inputs: [], outputs: ["input"]),
            Node(name: "other", op: .input, inputs: [], outputs: ["other"]),
            Node(name: "sub", op: .tensor(TensorOp(type: "Sub", opset: 14, arguments: [.value(0), .value(1)])), inputs: ["input", "other"], outputs: ["sub"]),
        ]
        let shape: [Int?] = [nil, 3, 4, 2]
        let model = Model(name: "t", format: .graphDef, inputs: ["input", "other"], outputs: ["sub"], nodes: nodes,
                          values: ["input": ValueInfo(name: "input", shape: shape), "other": ValueInfo(name: "other", shape: shape)])
        var typed = model
        typed.nodes[2].op = .elementwise(.subtract)
        XCTAssertNoThrow(try LayoutConversionCheck(original: model, converted: typed).verify())
        typed.nodes[2].op = .elementwise(.add)
        assertRefused(model, typed, at: "sub", "changed its")
    }

    /// Checked against a model that holds created transposes (what a file read back is compared
    /// with), the check looks through them: renamed, read transposes doing the same pass; one that
    /// transposes otherwise is caught where its value is read.
    func testLooksThroughTheTransposesOfTheModelItComparesWith() throws {
        var model = convBNFlattenDense()
        model.outputs = ["bn"]
        model.nodes.removeLast(2)
        let result = try ConvertLayout(target: .channelsFirst, keepIOLayout: true).apply(to: model)
        XCTAssertEqual(result.insertedTransposes.count, 2)
        var reread = result.model
        for (i, name) in result.insertedTransposes.enumerated() {
            let renamed = "read_\(i)"
            for k in reread.nodes.indices {
                if reread.nodes[k].name == name { reread.nodes[k].name = renamed; reread.nodes[k].outputs = [renamed] }
                reread.nodes[k].inputs = reread.nodes[k].inputs.map { $0 == name ? renamed : $0 }
            }
            reread.outputs = reread.outputs.map { $0 == name ? renamed : $0 }
        }
        for k in reread.nodes.indices { reread.nodes[k].readIndex = k }
        XCTAssertNoThrow(try LayoutConversionCheck(original: result.model, converted: reread).verify())
        let first = try XCTUnwrap(reread.nodes.firstIndex { $0.name == "read_0" })
        reread.nodes[first].op = .permute(permutation: [2, 3, 1])
        assertRefused(result.model, reread, at: "conv", "reads nchw")
    }
}
