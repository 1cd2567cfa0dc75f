@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class ModelRunnerTests: XCTestCase {
    private func value(_ name: String, _ shape: [Int?]) -> ValueInfo { ValueInfo(name: name, shape: shape, layout: .channelsLast) }

    /// x -> relu -> {a = rescale(relu), b = softmax(relu)} -> add(a, b), add(relu, relu): `relu` is read
    /// three times, so no reader may overwrite it in place.
    private func diamond() -> Model {
        let nodes = [
            Node(name: "input", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "relu", op: .activation(.relu()), inputs: ["x"], outputs: ["r"]),
            Node(name: "scale", op: .rescaling(scale: [2], offset: [1]), inputs: ["r"], outputs: ["a"]),
            Node(name: "soft", op: .softmax(axis: -1), inputs: ["r"], outputs: ["b"]),
            Node(name: "sum", op: .elementwise(.add), inputs: ["a", "b"], outputs: ["s"]),
            Node(name: "double", op: .elementwise(.add), inputs: ["r", "r"], outputs: ["d"]),
            Node(name: "flat", op: .flatten, inputs: ["d"], outputs: ["f"]),
        ]
        return Model(name: "diamond", format: .kerasZip, inputs: ["x"], outputs: ["s", "f"], nodes: nodes,
                     values: ["x": value("x", [nil, 2, 3])])
    }

    private func input() -> Tensor {
        Tensor(shape: [2, 2, 3], floats: (0..<12).map { Float($0) * 0.37 - 2 })
    }

    /// Runs one node of `model` alone on `inputs`.
    private func single(_ node: Node, _ inputs: [Tensor]) throws -> Tensor {
        let names = inputs.indices.map { "v\($0)" }
        var n = node
        n.inputs = n.inputs.map { names[Array(Set(node.inputs)).sorted().firstIndex(of: $0) ?? 0] }
        let model = Model(name: node.name, format: .kerasZip, inputs: names, outputs: n.outputs, nodes: [n], values: [:])
        return try ModelRunner(model: model).run(inputs)[0]
    }

    func testGraphEqualsItsNodesRunOneByOne() throws {
        let model = diamond()
        var seen: [String: Tensor] = [:]
        let outputs = try ModelRunner(model: model).run([input()]) { seen[$0] = $1 }
        XCTAssertEqual(Set(seen.keys), ["r", "a", "b", "s", "d", "f"])
        let r = try single(model.nodes[1], [input()])
        XCTAssertEqual(seen["r"], r)
        let a = try single(model.nodes[2], [r]), b = try single(model.nodes[3], [r])
        XCTAssertEqual(seen["a"], a)
        XCTAssertEqual(seen["b"], b)
        XCTAssertEqual(outputs[0], try single(model.nodes[4], [a, b]))
        XCTAssertEqual(outputs[1].shape, [2, 6])
        XCTAssertEqual(outputs[1].floats(), r.floats().map { $0 + $0 })
    }

    func testRepeatedRunsReuseBuffersWithoutChangingResults() throws {
        let runner = try ModelRunner(model: diamond())
        let first = try runner.run([input()])
        for _ in 0..<3 { XCTAssertEqual(try runner.run([input()]), first) }
        let other = Tensor(shape: [5, 2, 3], floats: (0..<30).map { Float($0) * -0.1 })
        XCTAssertEqual(try runner.run([other])[1].shape, [5, 6], "batch size comes from the input")
    }

    func testOpaqueNodeIsNamedAtInit() {
        var model = diamond()
        model.nodes.insert(Node(name: "lambda_1", op: .opaque(type: "Lambda"), inputs: ["x"], outputs: ["z"]), at: 1)
        model.outputs.append("z")  // a node no output needs is not prepared (ModelRunnerUntakenBranchTests)
        XCTAssertThrowsError(try ModelRunner(model: model)) { error in
            XCTAssertEqual(error as? EngineError,
                           .notSupported(kind: "Keras layer", op: "Lambda", node: "lambda_1"))
            XCTAssertEqual("\(error)", "Keras layer 'Lambda' is not supported (node 'lambda_1')")
        }
    }

    func testMissingWeightIsNamedAtInit() {
        let node = Node(name: "dense_3", op: .dense(Dense(units: 2)), inputs: ["x"], outputs: ["y"])
        let model = Model(name: "m", format: .kerasZip, inputs: ["x"], outputs: ["y"], nodes: [node], values: [:])
        XCTAssertThrowsError(try ModelRunner(model: model)) { error in
            XCTAssertEqual(error as? EngineError, .missingWeight(node: "dense_3", role: .kernel))
        }
    }

    func testWrongInputsAreRefused() throws {
        let runner = try ModelRunner(model: diamond())
        XCTAssertThrowsError(try runner.run([])) { XCTAssertEqual($0 as? EngineError, .inputCount(expected: 1, got: 0)) }
        XCTAssertThrowsError(try runner.run([Tensor(shape: [2, 3, 2], floats: Array(repeating: 0, count: 12))])) { error in
            XCTAssertEqual(error as? EngineError, .inputShape(name: "x", declared: [nil, 2, 3], got: [2, 3, 2]))
        }
    }

    func testRunTimeShapeErrorNamesTheNode() throws {
        let kernel = Tensor(shape: [4, 2], floats: Array(repeating: 1, count: 8))
        let node = Node(name: "fc", op: .dense(Dense(units: 2, useBias: false)), inputs: ["x"], outputs: ["y"],
                        weights: [Weight(role: .kernel, tensor: kernel, layout: .io, storageKey: "k")])
        let model = Model(name: "m", format: .kerasZip, inputs: ["x"], outputs: ["y"], nodes: [node], values: [:])
        XCTAssertThrowsError(try ModelRunner(model: model).run([Tensor(shape: [1, 3], floats: [1, 2, 3])])) { error in
            guard case let .nodeFailed(name, op, _)? = error as? EngineError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "fc")
            XCTAssertEqual(op, "Dense")
        }
    }

    func testHalfPrecisionAndTransposedDenseWeightsGiveTheSameAnswer() throws {
        let values: [Double] = [0.5, -1, 2, 0.25, 1.5, -0.75]   // exact in float16
        let io = Tensor(shape: [3, 2], doubles: values, dtype: .float16)
        let oi = try io.converted(to: .float32).transposed([1, 0])
        func model(_ w: Weight) -> Model {
            Model(name: "m", format: .onnx, inputs: ["x"], outputs: ["y"],
                  nodes: [Node(name: "fc", op: .dense(Dense(units: 2, useBias: false)), inputs: ["x"], outputs: ["y"], weights: [w])],
                  values: [:])
        }
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, -1, 0.5, 4])
        let a = try ModelRunner(model: model(Weight(role: .kernel, tensor: io, layout: .io, storageKey: "k"))).run([x])
        let b = try ModelRunner(model: model(Weight(role: .kernel, tensor: oi, layout: .oi, storageKey: "k"))).run([x])
        XCTAssertEqual(a, b)
    }
}
