@testable import BNConvCore
@testable import BNConvModel
import XCTest

/// The shared finish step every reader ends with: one validation with one kind of error (naming
/// the file and the node), the format's layout convention, and the read outline.
final class ModelFinisherTests: XCTestCase {
    /// input (N, 8, 8, 3) -> conv (channels-first when asked) -> relu -> flatten.
    private func model(strides: [Int] = [1, 1], convLayout: DataLayout = .channelsLast, outputs: [String] = ["flat"]) -> Model {
        let conv = Convolution(rank: 2, filters: 4, kernelSize: [3, 3], strides: strides, padding: .same, layout: convLayout)
        let kernel = Weight(role: .kernel, tensor: Tensor(shape: [3, 3, 3, 4], floats: Array(repeating: 0.5, count: 108)),
                            layout: .hwio, storageKey: "conv/kernel")
        let nodes = [
            Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "conv", op: .conv(conv), inputs: ["x"], outputs: ["c"], weights: [kernel]),
            Node(name: "relu", op: .activation(.relu()), inputs: ["c"], outputs: ["r"]),
            Node(name: "flatten", op: .flatten, inputs: ["r"], outputs: ["flat"]),
        ]
        let shape: [Int?] = convLayout == .channelsFirst ? [nil, 3, 8, 8] : [nil, 8, 8, 3]
        return Model(name: "m", format: .onnx, inputs: ["x"], outputs: outputs, nodes: nodes,
                     values: ["x": ValueInfo(name: "x", shape: shape)])
    }

    private func refusal(_ model: Model, file: StaticString = #filePath, line: UInt = #line) -> CheckpointError? {
        do {
            _ = try ModelFinisher(layouts: .derived).finish(model, file: "m.file")
            XCTFail("not refused", file: file, line: line)
        } catch let error as CheckpointError {
            return error
        } catch {
            XCTFail("not a CheckpointError: \(error)", file: file, line: line)
        }
        return nil
    }

    func testWindowBelowOneIsRefusedNamingFileAndNode() throws {
        let error = try XCTUnwrap(refusal(model(strides: [0, 1])))
        XCTAssertEqual(error.kind, .malformed)
        XCTAssertEqual(error.file, "m.file")
        XCTAssertEqual(error.place, "conv")
        XCTAssertEqual(error.description, "m.file: conv: node 'conv' declares strides [0, 1]; each must be from 1 to 2147483647")
    }

    func testUndefinedValuesAndDuplicatesAreRefused() throws {
        var reordered = model()
        reordered.nodes.swapAt(1, 2)
        XCTAssertEqual(refusal(reordered)?.description, "m.file: relu: node 'relu' reads 'c', which only the later node 'conv' writes: the graph has a cycle or is not in topological order")

        var duplicate = model()
        duplicate.nodes[2].name = "conv"
        XCTAssertEqual(refusal(duplicate)?.description, "m.file: conv: two nodes are named 'conv'")

        let missingOutput = model(outputs: ["nowhere"])
        let error = refusal(missingOutput)
        XCTAssertEqual(error?.place, "model outputs")
        XCTAssertEqual(error?.problem, "node '<model outputs>' reads 'nowhere', which no earlier node writes")
    }

    func testNodesAreNumberedAndTheModelAsReadIsRecorded() throws {
        let finished = try ModelFinisher(layouts: .channelsFirst).finish(model(), file: "m.file")
        XCTAssertEqual(finished.nodes.map(\.readIndex), [0, 1, 2, 3])
        let outline = try XCTUnwrap(finished.asRead)
        XCTAssertEqual(outline.nodes.map(\.name), ["x", "conv", "relu", "flatten"])
        XCTAssertEqual(outline.nodes.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(outline.nodes[1].inputs, ["x"])
        XCTAssertEqual(outline.nodes[1].weights, [WeightOutline(finished.nodes[1].weights[0])])
        XCTAssertEqual(outline.nodes[1].weights.first?.shape, [3, 3, 3, 4])
        XCTAssertEqual(outline.outputs, ["flat"])
        XCTAssertEqual(finished.values["c"]?.shape, [nil, 8, 8, 4], "shapes inferred")
    }

    func testLayoutConventions() throws {
        // Keras: derived where an op decides, else channels-last.
        let keras = try ModelFinisher(layouts: .derivedElseChannelsLast).finish(model(convLayout: .channelsFirst), file: "k")
        XCTAssertEqual(keras.values["x"]?.layout, .channelsFirst, "the input only a channels-first conv reads")
        XCTAssertEqual(keras.values["r"]?.layout, .channelsFirst, "propagated through the activation")
        XCTAssertNil(keras.values["flat"]?.layout, "rank 2: no layout")

        // GraphDef: derived only.
        var undecided = model()
        undecided.nodes[1].op = .identity
        undecided.nodes[1].weights = []
        let graphDef = try ModelFinisher(layouts: .derived).finish(undecided, file: "g")
        XCTAssertNil(graphDef.values["x"]?.layout)
        let keras2 = try ModelFinisher(layouts: .derivedElseChannelsLast).finish(undecided, file: "k")
        XCTAssertEqual(keras2.values["x"]?.layout, .channelsLast, "Keras's default data_format")

        // ONNX: every 3-D to 5-D value is channels-first, nothing derived.
        let onnx = try ModelFinisher(layouts: .channelsFirst).finish(model(), file: "o")
        XCTAssertEqual(onnx.values["x"]?.layout, .channelsFirst)
        XCTAssertEqual(onnx.values["c"]?.layout, .channelsFirst, "not the conv's own channels-last")
    }
}
