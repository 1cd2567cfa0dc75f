@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// Residual Adds fused into the producing convolution's epilogue: which Adds the plan absorbs and
/// which it refuses, and that the fused run gives exactly the numbers of the steps run one by one
/// (an observer turns fusion off), in both layouts, on every convolution path.
final class FusionPlanTests: XCTestCase, EngineTestData {
    private let relu = Activation.relu(maxValue: nil, threshold: 0, negativeSlope: 0)

    /// A conv node `name` reading `input` (`cin` channels) into `output`, with bias.
    private func conv(_ name: String, _ input: String, _ output: String, cin: Int, filters: Int, kernel: Int,
                      stride: Int = 1, layout: DataLayout, seed: UInt64) throws -> Node {
        let hwio = Tensor(shape: [kernel, kernel, cin, filters], floats: values(kernel * kernel * cin * filters, seed: seed))
        let first = layout == .channelsFirst
        let attributes = Convolution(rank: 2, filters: filters, kernelSize: [kernel, kernel], strides: [stride, stride],
                                     padding: .same, layout: layout)
        return Node(name: name, op: .conv(attributes), inputs: [input], outputs: [output],
                    weights: [Weight(role: .kernel, tensor: first ? try hwio.transposed([3, 2, 0, 1]) : hwio,
                                     layout: first ? .oihw : .hwio, storageKey: name + "/k"),
                              Weight(role: .bias, tensor: Tensor(shape: [filters], floats: values(filters, seed: seed + 1)),
                                     storageKey: name + "/b")])
    }

    /// An inference BatchNorm over the channel axis of `layout`.
    private func batchNorm(_ name: String, _ input: String, _ output: String, channels: Int, layout: DataLayout,
                           seed: UInt64) -> Node {
        let vector = { (s: UInt64, offset: Float) in
            Tensor(shape: [channels], floats: self.values(channels, seed: s).map { $0 + offset })
        }
        return Node(name: name, op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: layout == .channelsFirst ? 1 : -1)),
                    inputs: [input], outputs: [output],
                    weights: [Weight(role: .gamma, tensor: vector(seed, 1), storageKey: name + "/g"),
                              Weight(role: .beta, tensor: vector(seed + 1, 0), storageKey: name + "/be"),
                              Weight(role: .movingMean, tensor: vector(seed + 2, 0), storageKey: name + "/m"),
                              Weight(role: .movingVariance, tensor: vector(seed + 3, 1.5), storageKey: name + "/v")])
    }

    private func shape(_ layout: DataLayout, _ c: Int, _ h: Int, _ w: Int) -> [Int?] {
        layout == .channelsFirst ? [nil, c, h, w] : [nil, h, w, c]
    }

    /// Two ResNet bottleneck-like blocks: a projection block (shortcut conv first, then
    /// conv -> BN -> ReLU -> conv -> BN -> Add(branch, shortcut) -> ReLU) and an identity block whose
    /// Add lists the shortcut first (Add(y, conv(y)) -> ReLU). `withBatchNorm: false` gives the
    /// folded form (conv -> Add -> ReLU).
    private func resNet(layout: DataLayout, channels c: Int, filters f: Int, side: Int, withBatchNorm: Bool) throws -> Model {
        var nodes: [Node] = [
            try conv("shortcut", "x", "s", cin: c, filters: f, kernel: 1, layout: layout, seed: 10),
            try conv("conv1", "x", "c1", cin: c, filters: f / 2, kernel: 3, layout: layout, seed: 20),
            Node(name: "relu1", op: .activation(relu), inputs: ["c1"], outputs: ["r1"]),
            try conv("conv2", "r1", "c2", cin: f / 2, filters: f, kernel: 1, layout: layout, seed: 30),
        ]
        if withBatchNorm { nodes.append(batchNorm("bn2", "c2", "n2", channels: f, layout: layout, seed: 40)) }
        nodes += [
            Node(name: "add1", op: .elementwise(.add), inputs: [withBatchNorm ? "n2" : "c2", "s"], outputs: ["a1"]),
            Node(name: "out1", op: .activation(relu), inputs: ["a1"], outputs: ["y"]),
            try conv("conv3", "y", "c3", cin: f, filters: f, kernel: 3, layout: layout, seed: 50),
            Node(name: "add2", op: .elementwise(.add), inputs: ["y", "c3"], outputs: ["a2"]),
            Node(name: "out2", op: .activation(relu), inputs: ["a2"], outputs: ["z"]),
        ]
        return Model(name: "resnet", format: .onnx, inputs: ["x"], outputs: ["z"], nodes: nodes,
                     values: ["x": ValueInfo(name: "x", shape: shape(layout, c, side, side), layout: layout)])
    }

    private func input(layout: DataLayout, batch: Int, channels: Int, side: Int, seed: UInt64 = 7) -> Tensor {
        let dims = layout == .channelsFirst ? [batch, channels, side, side] : [batch, side, side, channels]
        return Tensor(shape: dims, floats: values(dims.reduce(1, *), seed: seed))
    }

    private func plan(_ model: Model) throws -> FusionPlan {
        let kernels = try model.nodes.map { try KernelFactory.make($0) }
        return FusionPlan(nodes: model.nodes, kernels: kernels, model: model)
    }

    private func index(_ model: Model, _ name: String) -> Int { model.nodes.firstIndex { $0.name == name }! }

    /// Fused and unfused runs of `model` on `x` agree exactly, for 1 to 3 threads; returns the
    /// nodes the fused run ran as steps of their own.
    @discardableResult
    private func assertFusedEqualsUnfused(_ model: Model, _ x: [Tensor], _ message: String,
                                          file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        var ran: [String] = []
        for threads in [1, 2, 3] {
            let runner = try ModelRunner(model: model, options: RunOptions(threads: threads, recordsNodeTimes: true))
            let unfused = try runner.run(x, observe: { _, _ in })
            let fused = try runner.run(x)
            XCTAssertEqual(fused.map(\.shape), unfused.map(\.shape), "\(message), \(threads) threads", file: file, line: line)
            XCTAssertEqual(fused, unfused, "\(message), \(threads) threads", file: file, line: line)
            ran = runner.lastNodeTimes.map(\.node)
            XCTAssertEqual(try runner.run(x), fused, "\(message), repeated run", file: file, line: line)
        }
        return ran
    }

    func testResidualAddsAndTheirReLUAreAbsorbedIntoTheConvolution() throws {
        for layout in [DataLayout.channelsFirst, .channelsLast] {
            for withBatchNorm in [true, false] {
                let model = try resNet(layout: layout, channels: 8, filters: 16, side: 6, withBatchNorm: withBatchNorm)
                let plan = try plan(model)
                let conv2 = index(model, "conv2"), conv3 = index(model, "conv3")
                let expected1 = (withBatchNorm ? ["bn2"] : []) + ["add1", "out1"]
                XCTAssertEqual(plan.chains[conv2]?.absorbed, expected1.map { index(model, $0) }, "\(layout)")
                XCTAssertEqual(plan.chains[conv2]?.residualShapes, ["s": shape(layout, 16, 6, 6)], "\(layout)")
                XCTAssertEqual(plan.chains[conv3]?.absorbed, [index(model, "add2"), index(model, "out2")], "\(layout)")
                XCTAssertEqual(plan.chains[conv3]?.residualShapes.keys.sorted(), ["y"], "\(layout)")
                XCTAssertNil(plan.chains[index(model, "add1")], "an absorbed Add heads no chain of its own")
            }
        }
    }

    func testFusedResidualEqualsUnfusedInBothLayouts() throws {
        // Sides and widths that take the split-by-positions, split-by-channels and batched paths.
        let sizes = [(channels: 8, filters: 16, side: 12), (channels: 32, filters: 192, side: 3),
                     (channels: 16, filters: 128, side: 4)]
        for layout in [DataLayout.channelsFirst, .channelsLast] {
            for size in sizes {
                for withBatchNorm in [true, false] {
                    let model = try resNet(layout: layout, channels: size.channels, filters: size.filters, side: size.side,
                                           withBatchNorm: withBatchNorm)
                    for batch in [1, 3] {
                        let x = input(layout: layout, batch: batch, channels: size.channels, side: size.side)
                        let ran = try assertFusedEqualsUnfused(model, [x], "\(layout) \(size) BN \(withBatchNorm) batch \(batch)")
                        XCTAssertEqual(ran, ["shortcut", "conv1", "conv2", "conv3"], "the Adds ran inside the convolutions")
                    }
                }
            }
        }
    }

    func testFusedResidualEqualsTheUnfusedDenseAndDepthwiseResult() throws {
        // dense -> Add(., x) -> ReLU, and a channels-first depthwise conv -> Add(x, .).
        let units = 24
        let dense = Node(name: "dense", op: .dense(Dense(units: units)), inputs: ["x"], outputs: ["d"],
                         weights: [Weight(role: .kernel, tensor: Tensor(shape: [units, units], floats: values(units * units, seed: 3)),
                                          layout: .io, storageKey: "k"),
                                   Weight(role: .bias, tensor: Tensor(shape: [units], floats: values(units, seed: 4)), storageKey: "b")])
        let denseModel = Model(name: "dense", format: .onnx, inputs: ["x"], outputs: ["y"], nodes: [
            dense,
            Node(name: "add", op: .elementwise(.add), inputs: ["d", "x"], outputs: ["a"]),
            Node(name: "relu", op: .activation(relu), inputs: ["a"], outputs: ["y"]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, units])])
        XCTAssertEqual(try plan(denseModel).chains[0]?.absorbed, [1, 2])
        try assertFusedEqualsUnfused(denseModel, [Tensor(shape: [5, units], floats: values(5 * units, seed: 5))], "dense")

        let c = 12
        let depthwise = Convolution(rank: 2, filters: c, kernelSize: [3, 3], padding: .same, depthMultiplier: 1,
                                    layout: .channelsFirst)
        let dwModel = Model(name: "dw", format: .onnx, inputs: ["x"], outputs: ["y"], nodes: [
            Node(name: "dw", op: .depthwiseConv(depthwise), inputs: ["x"], outputs: ["d"],
                 weights: [Weight(role: .kernel, tensor: Tensor(shape: [c, 1, 3, 3], floats: values(9 * c, seed: 8)),
                                  layout: .oihw, storageKey: "k"),
                           Weight(role: .bias, tensor: Tensor(shape: [c], floats: values(c, seed: 9)), storageKey: "b")]),
            Node(name: "add", op: .elementwise(.add), inputs: ["x", "d"], outputs: ["y"]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, c, 5, 7], layout: .channelsFirst)])
        XCTAssertEqual(try plan(dwModel).chains[0]?.absorbed, [1])
        let x = Tensor(shape: [2, c, 5, 7], floats: values(2 * c * 35, seed: 11))
        try assertFusedEqualsUnfused(dwModel, [x], "depthwise")
    }

    func testAddsThatAreNotPlainSameShapeResidualsAreNotAbsorbed() throws {
        let layout = DataLayout.channelsFirst
        let head = try conv("conv", "x", "c", cin: 4, filters: 4, kernel: 3, layout: layout, seed: 1)
        let pooled = Node(name: "gap", op: .globalPool(GlobalPool(kind: .average, keepDims: true, layout: layout)),
                          inputs: ["x"], outputs: ["g"])
        let later = Node(name: "later", op: .activation(.tanh), inputs: ["x"], outputs: ["l"])
        let declared = ["x": ValueInfo(name: "x", shape: [nil, 4, 5, 5], layout: layout)]
        func model(_ nodes: [Node], values: [String: ValueInfo] = declared) -> Model {
            Model(name: "m", format: .onnx, inputs: ["x"], outputs: [nodes.last!.outputs[0]], nodes: nodes, values: values)
        }
        var halfPrecision = declared
        halfPrecision["x"]?.dtype = .float16
        let cases: [(String, Model)] = [
            ("broadcasting", model([pooled, head, Node(name: "add", op: .elementwise(.add), inputs: ["c", "g"], outputs: ["y"])])),
            ("three operands", model([head, Node(name: "add", op: .elementwise(.add), inputs: ["c", "x", "x"], outputs: ["y"])])),
            ("subtract", model([head, Node(name: "sub", op: .elementwise(.subtract), inputs: ["c", "x"], outputs: ["y"])])),
            ("shortcut written after the head", model([head, later,
                                                      Node(name: "add", op: .elementwise(.add), inputs: ["c", "l"], outputs: ["y"])])),
            ("unknown shapes", model([head, Node(name: "add", op: .elementwise(.add), inputs: ["c", "x"], outputs: ["y"])], values: [:])),
            ("different dtypes", model([head, Node(name: "add", op: .elementwise(.add), inputs: ["c", "x"], outputs: ["y"])],
                                       values: halfPrecision)),
        ]
        for (name, m) in cases {
            let plan = try plan(m)
            let add = m.nodes.count - 1
            XCTAssertFalse(plan.absorbed.contains(add), name)
            XCTAssertNil(plan.chains[index(m, "conv")], name)
            try assertFusedEqualsUnfused(m, [input(layout: layout, batch: 2, channels: 4, side: 5)], name)
        }
        // The same value twice is no residual, but `c + c` reads only the chain: an element program.
        let twice = model([head, Node(name: "add", op: .elementwise(.add), inputs: ["c", "c"], outputs: ["y"])])
        let chain = try XCTUnwrap(try plan(twice).chains[index(twice, "conv")])
        guard case .op(.program(let program))? = chain.links.first else { return XCTFail("c + c is not an element program: \(chain.links)") }
        XCTAssertEqual(program.steps, [.arithmetic(.add, .register(0), .register(0), into: 1)])
        try assertFusedEqualsUnfused(twice, [input(layout: layout, batch: 2, channels: 4, side: 5)], "the same value twice")
    }

    func testAnAddOfTwoConvolutionsJoinsTheLaterOne() throws {
        // Add(c1, c2): when conv2 runs, c1 is ready; when conv1 runs, c2 is not.
        let layout = DataLayout.channelsLast
        let nodes = [
            try conv("conv1", "x", "c1", cin: 4, filters: 6, kernel: 3, layout: layout, seed: 1),
            try conv("conv2", "x", "c2", cin: 4, filters: 6, kernel: 1, layout: layout, seed: 2),
            Node(name: "add", op: .elementwise(.add), inputs: ["c1", "c2"], outputs: ["y"]),
        ]
        let model = Model(name: "m", format: .onnx, inputs: ["x"], outputs: ["y"], nodes: nodes,
                          values: ["x": ValueInfo(name: "x", shape: [nil, 5, 5, 4], layout: layout)])
        let plan = try plan(model)
        XCTAssertNil(plan.chains[0])
        XCTAssertEqual(plan.chains[1]?.absorbed, [2])
        XCTAssertEqual(plan.chains[1]?.residualShapes, ["c1": [nil, 5, 5, 6]])
        try assertFusedEqualsUnfused(model, [input(layout: layout, batch: 2, channels: 4, side: 5)], "two convolutions")
    }

    func testAShortcutWrittenByAnEarlierChainIsReady() throws {
        // Keras's order: 0_conv, 3_conv, 0_bn, 3_bn, add. 0_bn runs inside 0_conv's chain, so its
        // value is there when 3_conv runs.
        for layout in [DataLayout.channelsFirst, .channelsLast] {
            let nodes = [
                try conv("conv0", "x", "c0", cin: 4, filters: 8, kernel: 1, layout: layout, seed: 1),
                try conv("conv3", "x", "c3", cin: 4, filters: 8, kernel: 3, layout: layout, seed: 2),
                batchNorm("bn0", "c0", "n0", channels: 8, layout: layout, seed: 3),
                batchNorm("bn3", "c3", "n3", channels: 8, layout: layout, seed: 4),
                Node(name: "add", op: .elementwise(.add), inputs: ["n0", "n3"], outputs: ["a"]),
                Node(name: "out", op: .activation(relu), inputs: ["a"], outputs: ["y"]),
            ]
            let model = Model(name: "m", format: .keras2H5, inputs: ["x"], outputs: ["y"], nodes: nodes,
                              values: ["x": ValueInfo(name: "x", shape: shape(layout, 4, 6, 6), layout: layout)])
            let plan = try plan(model)
            XCTAssertEqual(plan.chains[0]?.absorbed, [2], "\(layout)")
            XCTAssertEqual(plan.chains[1]?.absorbed, [3, 4, 5], "\(layout)")
            XCTAssertEqual(plan.chains[1]?.residualShapes.keys.sorted(), ["n0"], "\(layout)")
            let ran = try assertFusedEqualsUnfused(model, [input(layout: layout, batch: 2, channels: 4, side: 6)], "\(layout)")
            XCTAssertEqual(ran, ["conv0", "conv3"], "\(layout)")
        }
    }

    func testAChainWhoseShortcutChainRanStepByStepRunsStepByStep() throws {
        // conv0's chain adds `r`, fed with another batch: it runs step by step, so `s` is written
        // only after conv3, whose chain must then run step by step too.
        let layout = DataLayout.channelsFirst
        let nodes = [
            try conv("conv0", "x", "c0", cin: 4, filters: 4, kernel: 1, layout: layout, seed: 1),
            try conv("conv3", "x", "c3", cin: 4, filters: 4, kernel: 3, layout: layout, seed: 2),
            batchNorm("bn0", "c0", "n0", channels: 4, layout: layout, seed: 3),
            Node(name: "add0", op: .elementwise(.add), inputs: ["n0", "r"], outputs: ["s"]),
            Node(name: "add3", op: .elementwise(.add), inputs: ["c3", "s"], outputs: ["y"]),
        ]
        let declared = shape(layout, 4, 5, 5)
        let model = Model(name: "m", format: .onnx, inputs: ["x", "r"], outputs: ["y"], nodes: nodes,
                          values: ["x": ValueInfo(name: "x", shape: declared, layout: layout),
                                   "r": ValueInfo(name: "r", shape: declared, layout: layout)])
        let plan = try plan(model)
        XCTAssertEqual(plan.chains[0]?.absorbed, [2, 3])
        XCTAssertEqual(plan.chains[1]?.absorbed, [4])
        let x = input(layout: layout, batch: 2, channels: 4, side: 5)
        let broadcast = try assertFusedEqualsUnfused(model, [x, input(layout: layout, batch: 1, channels: 4, side: 5, seed: 5)],
                                                     "broadcast")
        XCTAssertEqual(broadcast, ["conv0", "conv3", "bn0", "add0", "add3"])
        let same = try assertFusedEqualsUnfused(model, [x, input(layout: layout, batch: 2, channels: 4, side: 5, seed: 5)], "same")
        XCTAssertEqual(same, ["conv0", "conv3"])
    }

    func testAMergeHeadTakesNoResidual() throws {
        let nodes = [
            Node(name: "add1", op: .elementwise(.add), inputs: ["x", "w"], outputs: ["a"]),
            Node(name: "add2", op: .elementwise(.add), inputs: ["a", "w"], outputs: ["y"]),
        ]
        let values = ["x": ValueInfo(name: "x", shape: [nil, 6]), "w": ValueInfo(name: "w", shape: [nil, 6])]
        let model = Model(name: "m", format: .onnx, inputs: ["x", "w"], outputs: ["y"], nodes: nodes, values: values)
        XCTAssertTrue(try plan(model).chains.isEmpty)
    }

    func testAResidualOfAnotherBatchAtRunTimeRunsTheStepsOneByOne() throws {
        // Both operands are declared [nil, 4, 5, 5]; fed batch 2 and batch 1, the Add broadcasts.
        let layout = DataLayout.channelsFirst
        let nodes = [
            try conv("conv", "x", "c", cin: 4, filters: 4, kernel: 3, layout: layout, seed: 1),
            Node(name: "add", op: .elementwise(.add), inputs: ["c", "r"], outputs: ["a"]),
            Node(name: "relu", op: .activation(relu), inputs: ["a"], outputs: ["y"]),
        ]
        let declared = [nil, 4, 5, 5] as [Int?]
        let model = Model(name: "m", format: .onnx, inputs: ["x", "r"], outputs: ["y"], nodes: nodes,
                          values: ["x": ValueInfo(name: "x", shape: declared, layout: layout),
                                   "r": ValueInfo(name: "r", shape: declared, layout: layout)])
        XCTAssertEqual(try plan(model).chains[0]?.absorbed, [1, 2])
        let x = input(layout: layout, batch: 2, channels: 4, side: 5)
        let r = input(layout: layout, batch: 1, channels: 4, side: 5, seed: 9)
        XCTAssertEqual(try assertFusedEqualsUnfused(model, [x, r], "broadcast batch"), ["conv", "add", "relu"])
        let same = input(layout: layout, batch: 2, channels: 4, side: 5, seed: 9)
        XCTAssertEqual(try assertFusedEqualsUnfused(model, [x, same], "same batch"), ["conv"])
    }

    func testAShortcutReadAgainBetweenTheHeadAndTheAddStaysAlive() throws {
        // s is read by the fused Add (run with conv) and by `other`, which comes after conv in node
        // order: s must not go back to the pool (nor be overwritten in place) before `other` runs.
        let layout = DataLayout.channelsLast
        let nodes = [
            Node(name: "shortcut", op: .activation(relu), inputs: ["x"], outputs: ["s"]),
            try conv("conv", "x", "c", cin: 4, filters: 4, kernel: 3, layout: layout, seed: 1),
            Node(name: "other", op: .activation(.tanh), inputs: ["s"], outputs: ["t"]),
            Node(name: "add", op: .elementwise(.add), inputs: ["c", "s"], outputs: ["a"]),
            Node(name: "relu", op: .activation(relu), inputs: ["a"], outputs: ["y"]),
            Node(name: "sum", op: .elementwise(.add), inputs: ["y", "t"], outputs: ["z"]),
        ]
        let model = Model(name: "m", format: .onnx, inputs: ["x"], outputs: ["z", "s"], nodes: nodes,
                          values: ["x": ValueInfo(name: "x", shape: [nil, 5, 5, 4], layout: layout)])
        XCTAssertEqual(try plan(model).chains[1]?.absorbed, [3, 4])
        try assertFusedEqualsUnfused(model, [input(layout: layout, batch: 2, channels: 4, side: 5)], "shortcut read again")
    }
}
