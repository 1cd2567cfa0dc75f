@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The channels-first convolution against the channels-last one (itself checked against TensorFlow
/// recordings by ``ConvolutionKernelTests``) on inputs large enough to split the product across
/// cores both ways, with a fused BatchNorm + ReLU tail and without fusion (an observer disables it).
final class ChannelsFirstConvolutionKernelTests: XCTestCase, EngineTestData {
    private struct Case {
        let name: String
        let input: [Int]          // NHWC
        let filters: Int
        let kernel: [Int]
        var strides = [1, 1]
        var dilations = [1, 1]
        var padding = Padding.same
        var groups = 1
    }

    private let cases = [
        Case(name: "positions split 3x3", input: [1, 40, 40, 16], filters: 32, kernel: [3, 3]),
        Case(name: "channels split 3x3", input: [1, 6, 6, 64], filters: 128, kernel: [3, 3]),
        Case(name: "pointwise positions split, batch 3", input: [3, 20, 20, 48], filters: 40, kernel: [1, 1]),
        Case(name: "pointwise channels split", input: [1, 7, 7, 96], filters: 160, kernel: [1, 1]),
        Case(name: "batched channels split 3x3", input: [3, 5, 6, 32], filters: 128, kernel: [3, 3]),
        Case(name: "batched pointwise", input: [4, 4, 4, 64], filters: 192, kernel: [1, 1]),
        Case(name: "1x1 stride 2", input: [1, 14, 14, 64], filters: 128, kernel: [1, 1], strides: [2, 2], padding: .valid),
        Case(name: "7x7 stride 2 explicit pads", input: [2, 33, 31, 3], filters: 24, kernel: [7, 7], strides: [2, 2],
             padding: .explicit([Pair(3, 2), Pair(1, 3)])),
        Case(name: "dilated grouped", input: [2, 17, 19, 24], filters: 36, kernel: [3, 2], dilations: [2, 3], groups: 3),
    ]

    private func model(_ c: Case, layout: DataLayout) throws -> (Model, Tensor) {
        let cin = c.input[3]
        let hwio = Tensor(shape: c.kernel + [cin / c.groups, c.filters], floats: values(c.kernel.reduce(1, *) * cin / c.groups * c.filters, seed: 1))
        let first = layout == .channelsFirst
        let kernel = first ? try hwio.transposed([3, 2, 0, 1]) : hwio
        let conv = Convolution(rank: 2, filters: c.filters, kernelSize: c.kernel, strides: c.strides, dilations: c.dilations,
                               padding: c.padding, groups: c.groups, layout: layout)
        let vector = { (seed: UInt64, offset: Float) in
            Tensor(shape: [c.filters], floats: self.values(c.filters, seed: seed).map { $0 + offset })
        }
        let nodes = [
            Node(name: "conv", op: .conv(conv), inputs: ["x"], outputs: ["c"],
                 weights: [Weight(role: .kernel, tensor: kernel, layout: first ? .oihw : .hwio, storageKey: "k"),
                           Weight(role: .bias, tensor: vector(2, 0), storageKey: "b")]),
            Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: first ? 1 : -1)), inputs: ["c"], outputs: ["n"],
                 weights: [Weight(role: .gamma, tensor: vector(3, 1), storageKey: "g"),
                           Weight(role: .beta, tensor: vector(4, 0), storageKey: "be"),
                           Weight(role: .movingMean, tensor: vector(5, 0), storageKey: "m"),
                           Weight(role: .movingVariance, tensor: vector(6, 1.5), storageKey: "v")]),
            Node(name: "relu", op: .activation(.relu(maxValue: nil, threshold: 0, negativeSlope: 0)), inputs: ["n"], outputs: ["y"]),
        ]
        let model = Model(name: c.name, format: .onnx, inputs: ["x"], outputs: ["y"], nodes: nodes, values: [:])
        let x = Tensor(shape: c.input, floats: values(c.input.reduce(1, *), seed: 7))
        return (model, first ? try x.transposed([0, 3, 1, 2]) : x)
    }

    func testMatchesTheChannelsLastConvolutionFusedAndUnfused() throws {
        for c in cases {
            let (last, xLast) = try model(c, layout: .channelsLast)
            let expected = try ModelRunner(model: last, options: RunOptions(threads: 1)).run([xLast])[0]
            let (first, xFirst) = try model(c, layout: .channelsFirst)
            for threads in [1, 2, 3] {
                let runner = try ModelRunner(model: first, options: RunOptions(threads: threads))
                let fused = try runner.run([xFirst])[0].transposed([0, 2, 3, 1])
                assertClose(fused, expected, "\(c.name), \(threads) threads, fused")
                let unfused = try runner.run([xFirst], observe: { _, _ in })[0].transposed([0, 2, 3, 1])
                assertClose(unfused, expected, "\(c.name), \(threads) threads, unfused")
            }
        }
    }

    func testTheBatchNormAndReLUAreFusedIntoTheChannelsFirstConvolution() throws {
        let (first, _) = try model(cases[0], layout: .channelsFirst)
        let runner = try ModelRunner(model: first)
        var kernels: [EngineKernel] = []
        for node in first.nodes { kernels.append(try KernelFactory.make(node)) }
        let plan = FusionPlan(nodes: first.nodes, kernels: kernels, model: first)
        XCTAssertTrue(kernels[0] is ChannelsFirstConvolutionKernel)
        XCTAssertEqual(plan.absorbed, [1, 2])
        XCTAssertEqual(runner.model.nodes.count, 3)
    }
}
