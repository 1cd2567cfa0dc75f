@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// Element-wise nodes fused into their producer's epilogue as one ``ElementProgram``: which nodes
/// a region takes (paddle2onnx's affine blocks and written-out hard-swish, branches that join),
/// where it stops (a value read elsewhere, a model output, a constant that broadcasts), and that
/// the fused run gives exactly the numbers of the nodes run one by one.
final class ElementRegionTests: XCTestCase, EngineTestData {
    private func plan(_ model: Model) throws -> FusionPlan {
        FusionPlan(nodes: model.nodes, kernels: try model.nodes.map { try KernelFactory.make($0) }, model: model)
    }

    private func index(_ model: Model, _ name: String) -> Int { model.nodes.firstIndex { $0.name == name }! }

    /// Fused and unfused runs (an observer turns fusion off) agree bit for bit, on 1 and 2 threads.
    private func assertFusedEqualsUnfused(_ model: Model, _ x: Tensor, _ message: String,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        for threads in [1, 2] {
            let runner = try ModelRunner(model: model, options: RunOptions(threads: threads))
            let unfused = try runner.run([x], observe: { _, _ in })
            let fused = try runner.run([x])
            XCTAssertEqual(fused, unfused, "\(message), \(threads) threads", file: file, line: line)
        }
    }

    /// An op-library binary node `type` of `input` and the scalar constant `value` (first when `constantFirst`).
    private func scalarOp(_ type: String, _ name: String, _ input: String, _ value: Float, constantFirst: Bool = false,
                          shape: [Int] = []) -> Node {
        let role = TensorOp.operandRole(constantFirst ? 0 : 1)
        let arguments: [TensorOpArgument] = constantFirst ? [.weight(role), .value(0)] : [.value(0), .weight(role)]
        return Node(name: name, op: .tensor(TensorOp(type: type, opset: 13, arguments: arguments)), inputs: [input],
                    outputs: [name], weights: [Weight(role: role, tensor: Tensor(shape: shape, floats: [Float](repeating: value, count: max(shape.reduce(1, *), 1))),
                                                      storageKey: name + "/c")])
    }

    /// An op-library binary node of two values.
    private func valueOp(_ type: String, _ name: String, _ a: String, _ b: String) -> Node {
        Node(name: name, op: .tensor(TensorOp(type: type, opset: 13, arguments: [.value(0), .value(1)])), inputs: [a, b], outputs: [name])
    }

    private func conv(_ name: String, _ input: String, cin: Int, filters: Int, layout: DataLayout, seed: UInt64) -> Node {
        let first = layout == .channelsFirst
        let shape = first ? [filters, cin, 3, 3] : [3, 3, cin, filters]
        return Node(name: name, op: .conv(Convolution(rank: 2, filters: filters, kernelSize: [3, 3], padding: .same, layout: layout)),
                    inputs: [input], outputs: [name],
                    weights: [Weight(role: .kernel, tensor: Tensor(shape: shape, floats: values(shape.reduce(1, *), seed: seed)),
                                     layout: first ? .oihw : .hwio, storageKey: name + "/k"),
                              Weight(role: .bias, tensor: Tensor(shape: [filters], floats: values(filters, seed: seed + 1)),
                                     storageKey: name + "/b")])
    }

    /// conv -> Mul(2.5, .) -> Add(., 0.25) -> Add 3 -> Clip(0, 6) -> Mul(x, clip) -> Div 6 -> conv2.
    private func hardSwishModel(layout: DataLayout) -> Model {
        let clip = Activation.relu(maxValue: 6, threshold: 0, negativeSlope: 0)
        let nodes = [
            conv("conv", "x", cin: 3, filters: 4, layout: layout, seed: 1),
            scalarOp("Mul", "scale", "conv", 2.5, constantFirst: true, shape: [1]),
            scalarOp("Add", "shift", "scale", 0.25, shape: [1]),
            scalarOp("Add", "plus3", "shift", 3),
            Node(name: "clip", op: .activation(clip), inputs: ["plus3"], outputs: ["clip"]),
            valueOp("Mul", "times", "shift", "clip"),
            scalarOp("Div", "sixth", "times", 6),
            conv("conv2", "sixth", cin: 4, filters: 2, layout: layout, seed: 3),
        ]
        let shape: [Int?] = layout == .channelsFirst ? [nil, 3, 9, 9] : [nil, 9, 9, 3]
        return Model(name: "hs", format: .onnx, inputs: ["x"], outputs: ["conv2"], nodes: nodes,
                     values: ["x": ValueInfo(name: "x", shape: shape, layout: layout)])
    }

    private func input(_ layout: DataLayout, batch: Int = 2) -> Tensor {
        let shape = layout == .channelsFirst ? [batch, 3, 9, 9] : [batch, 9, 9, 3]
        return Tensor(shape: shape, floats: values(shape.reduce(1, *), seed: 9).map { $0 * 4 })
    }

    func testAnAffineBlockAndAWrittenOutHardSwishBecomeOneProgramInTheConvolution() throws {
        for layout in [DataLayout.channelsFirst, .channelsLast] {
            let model = hardSwishModel(layout: layout)
            let plan = try plan(model)
            let chain = try XCTUnwrap(plan.chains[0], "\(layout)")
            XCTAssertEqual(chain.absorbed, Array(1...6), "\(layout)")
            XCTAssertEqual(chain.output, "sixth")
            guard case .op(.program(let program))? = chain.links.first, chain.links.count == 1 else {
                return XCTFail("\(layout): \(chain.links)")
            }
            XCTAssertEqual(program.steps.count, 6)
            XCTAssertEqual(program.result, 6)
            try assertFusedEqualsUnfused(model, input(layout), "\(layout)")
        }
    }

    func testARegionStopsBeforeAValueReadElsewhereOrAModelOutput() throws {
        // "shift" is also read by a later node outside the region: only the Mul and Add that come
        // before it are a valid region ("shift" escaping alone); the hard-swish stays unfused.
        var model = hardSwishModel(layout: .channelsFirst)
        model.nodes.append(valueOp("Add", "later", "conv2", "conv2"))
        model.nodes.append(scalarOp("Mul", "elsewhere", "shift", 2))
        model.outputs = ["later", "elsewhere"]
        var plan = try plan(model)
        XCTAssertEqual(plan.chains[0]?.absorbed, [1, 2])
        XCTAssertEqual(plan.chains[0]?.output, "shift")
        try assertFusedEqualsUnfused(model, input(.channelsFirst), "read elsewhere")
        // The Add 3 is a model output: the region ends there.
        model = hardSwishModel(layout: .channelsFirst)
        model.outputs = ["conv2", "plus3"]
        plan = try self.plan(model)
        XCTAssertFalse(plan.absorbed.contains(index(model, "times")))
        XCTAssertFalse(plan.absorbed.contains(index(model, "clip")))
        try assertFusedEqualsUnfused(model, input(.channelsFirst), "model output")
    }

    func testAConstantThatIsNotAScalarIsNotTaken() throws {
        let model = Model(name: "m", format: .onnx, inputs: ["x"], outputs: ["shift"], nodes: [
            conv("conv", "x", cin: 3, filters: 4, layout: .channelsFirst, seed: 1),
            scalarOp("Add", "shift", "conv", 0.5, shape: [4, 1, 1]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, 3, 9, 9], layout: .channelsFirst)])
        XCTAssertNil(try plan(model).chains[0])
        try assertFusedEqualsUnfused(model, input(.channelsFirst), "per-channel constant")
    }

    func testSwishOfAMergeIsAProgramOfTheMerge() throws {
        // Add(a, b) -> Sigmoid -> Multiply(add, sigmoid): a merge head takes the program too.
        let model = Model(name: "m", format: .onnx, inputs: ["a", "b"], outputs: ["y"], nodes: [
            Node(name: "add", op: .elementwise(.add), inputs: ["a", "b"], outputs: ["s"]),
            Node(name: "sig", op: .activation(.sigmoid), inputs: ["s"], outputs: ["g"]),
            Node(name: "mul", op: .elementwise(.multiply), inputs: ["s", "g"], outputs: ["y"]),
        ], values: ["a": ValueInfo(name: "a", shape: [nil, 700]), "b": ValueInfo(name: "b", shape: [nil, 700])])
        let plan = try plan(model)
        XCTAssertEqual(plan.chains[0]?.absorbed, [1, 2])
        let a = Tensor(shape: [3, 700], floats: values(2100, seed: 4).map { $0 * 8 })
        let b = Tensor(shape: [3, 700], floats: values(2100, seed: 5))
        let runner = try ModelRunner(model: model)
        XCTAssertEqual(try runner.run([a, b]), try runner.run([a, b], observe: { _, _ in }))
    }

    /// tf.keras's swish as a frozen graph writes it: `Rescaling(beta)` -> `Sigmoid` -> `Multiply(x, .)`,
    /// then `IdentityN(mul, x, beta)` of which only the first output is read. The IdentityN passes on
    /// only that operand (``IdentityNKernel``), so `x` is read inside the region alone and the three
    /// nodes become one program in the convolution; fused and unfused runs agree bit for bit.
    func testTfKerasSwishWithItsIdentityNBecomesOneProgram() throws {
        let beta = Weight(role: TensorOp.operandRole(2), tensor: Tensor(shape: [], floats: [1]), storageKey: "beta")
        let identityN = TensorOp(type: "TF.IdentityN", opset: 13, arguments: [.value(0), .value(1), .weight(beta.role)])
        let model = Model(name: "swish", format: .graphDef, inputs: ["x"], outputs: ["conv2"], nodes: [
            conv("conv", "x", cin: 3, filters: 4, layout: .channelsLast, seed: 1),
            Node(name: "scaled", op: .rescaling(scale: [1.5], offset: [0]), inputs: ["conv"], outputs: ["scaled"]),
            Node(name: "sig", op: .activation(.sigmoid), inputs: ["scaled"], outputs: ["sig"]),
            Node(name: "mul", op: .elementwise(.multiply), inputs: ["conv", "sig"], outputs: ["mul"]),
            Node(name: "idn", op: .tensor(identityN), inputs: ["mul", "conv"], outputs: ["idn", "idn:1", "idn:2"], weights: [beta]),
            conv("conv2", "idn", cin: 4, filters: 2, layout: .channelsLast, seed: 3),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, 9, 9, 3], layout: .channelsLast)])
        let runner = try ModelRunner(model: model)
        let chain = try XCTUnwrap(runner.fusion.chains[0])
        XCTAssertEqual(chain.output, "mul")
        XCTAssertEqual(chain.absorbed, [1, 2, 3])
        let narrowed = try XCTUnwrap(runner.steps.first { $0.node.name == "idn" }?.node)
        XCTAssertEqual(narrowed.inputs, ["mul"])
        XCTAssertEqual(narrowed.outputs, ["idn"])
        XCTAssertTrue(runner.steps.first { $0.node.name == "idn" }?.kernel is IdentityNKernel)
        try assertFusedEqualsUnfused(model, input(.channelsLast), "tf.keras swish")
        // The same numbers as the nodes computed by the op library, one by one, without the IdentityN.
        var direct = model
        direct.nodes.remove(at: 4)
        direct.nodes[4].inputs = ["mul"]
        XCTAssertEqual(try runner.run([input(.channelsLast)]), try ModelRunner(model: direct).run([input(.channelsLast)], observe: { _, _ in }))
    }

    func testTheProgramAcrossChunkBoundariesEqualsTheStepsOneByOne() {
        // Register 0 read twice, a constant first, every arithmetic kind; 600 values: three chunks.
        let program = ElementProgram(steps: [
            .arithmetic(.multiply, .constant(1.5), .register(0), into: 1),
            .arithmetic(.subtract, .register(1), .constant(0.25), into: 2),
            .activation(.sigmoid, 2, into: 3),
            .arithmetic(.divide, .register(0), .register(3), into: 4),
            .arithmetic(.maximum, .register(4), .constant(-1), into: 5),
            .arithmetic(.mergeMinimum, .register(5), .register(0), into: 6),
        ], registers: 7, result: 6)
        let x = values(600, seed: 11).map { $0 * 5 }
        var fused = x
        fused.withUnsafeMutableBufferPointer { program.apply($0.baseAddress!, count: $0.count) }
        let expected = x.map { v -> Float in
            let s = 1.5 * v - 0.25
            var g = [s]
            g.withUnsafeMutableBufferPointer { ActivationFunction.applySerially(.sigmoid, input: $0.baseAddress!, output: $0.baseAddress!, count: 1) }
            let q = v / g[0]
            return min(q > -1 || q.isNaN ? q : -1, v)
        }
        XCTAssertEqual(fused, expected)
    }

    func testThePaddleOCRBlockFixtureFusesItsElementwiseNodes() throws {
        // paddle2onnx's PP-LCNetV3 block (Tests/Fixtures/onnx/pplcnet_block, written by
        // onnx and run by onnxruntime): every affine block and hard-swish runs inside a convolution.
        let model = try ONNXFixtures.read("pplcnet_block")
        let runner = try ModelRunner(model: model, options: RunOptions(recordsNodeTimes: true))
        let x = try NumPyFile.read(FixturePaths.url("onnx/pplcnet_block/input.npy").path)
        let fused = try runner.run([x])
        let ran = Set(runner.lastNodeTimes.map(\.node))
        for name in ["lab1_mul", "hs1_clip", "hs2_div", "lab6_add"] { XCTAssertFalse(ran.contains(name), "\(name) ran on its own") }
        XCTAssertEqual(fused, try runner.run([x], observe: { _, _ in }))
    }
}
