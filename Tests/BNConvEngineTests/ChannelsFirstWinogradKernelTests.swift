@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The Winograd convolution against the direct channels-first one (itself checked against
/// TensorFlow recordings through ``ChannelsFirstConvolutionKernelTests``) on random data, and
/// against onnxruntime's recording of a padded 3x3 convolution.
///
/// Tolerance: both kernels sum in float32 but in different orders and through different
/// intermediates (F(2x2,3x3) adds up to 4 inputs and 9 products per output; F(4x4,3x3) scales them
/// by up to 8 and 1/24), so they differ by rounding only: float32's epsilon (1.2e-7) times the
/// size of the sums' terms. ``f2Tolerance`` (1e-5 of the largest output, the engine tests' bar for
/// framework recordings) leaves about 10x room over what F(2x2) differs by; F(4x4)'s larger
/// intermediates get ``f4Tolerance``.
final class ChannelsFirstWinogradKernelTests: XCTestCase, EngineTestData {
    private static let f2Tolerance = 1e-5
    private static let f4Tolerance = 2e-5

    private struct Case {
        let name: String
        let input: [Int]          // NCHW
        let filters: Int
        var padding = Padding.same
        var bias = true
        var activation = Activation.linear
        /// A fused BatchNorm (affine) + ReLU tail.
        var tail = true
    }

    private let cases = [
        Case(name: "odd sizes, same", input: [1, 32, 13, 11], filters: 48),
        Case(name: "valid, batch 2, no bias, no tail", input: [2, 40, 9, 10], filters: 32, padding: .valid, bias: false, tail: false),
        Case(name: "explicit asymmetric pads, batch 3", input: [3, 33, 7, 12], filters: 35,
             padding: .explicit([Pair(2, 0), Pair(1, 3)])),
        Case(name: "pads past the window", input: [1, 32, 5, 6], filters: 32, padding: .explicit([Pair(3, 4), Pair(0, 5)])),
        Case(name: "blocks across images, batch 4", input: [4, 32, 64, 16], filters: 40),
        Case(name: "many tiles, one image", input: [1, 32, 70, 58], filters: 32, padding: .valid),
        Case(name: "few tiles, deep", input: [2, 96, 3, 4], filters: 128),
        Case(name: "layer activation, no tail", input: [1, 32, 10, 10], filters: 64, activation: .relu(), tail: false),
        Case(name: "softmax over channels", input: [2, 32, 6, 7], filters: 36, activation: .softmax, tail: false),
    ]

    private func node(_ c: Case) -> Node {
        let cin = c.input[1]
        let kernel = Tensor(shape: [c.filters, cin, 3, 3], floats: values(c.filters * cin * 9, seed: 11))
        let conv = Convolution(rank: 2, filters: c.filters, kernelSize: [3, 3], padding: c.padding, useBias: c.bias,
                               activation: c.activation, layout: .channelsFirst)
        var weights = [Weight(role: .kernel, tensor: kernel, layout: .oihw, storageKey: "k")]
        if c.bias { weights.append(Weight(role: .bias, tensor: Tensor(shape: [c.filters], floats: values(c.filters, seed: 12)), storageKey: "b")) }
        return Node(name: c.name, op: .conv(conv), inputs: ["x"], outputs: ["y"], weights: weights)
    }

    private func direct(_ node: Node) throws -> ChannelsFirstConvolutionKernel {
        guard case .conv(let attributes) = node.op else { throw XCTSkip("not a convolution: \(node.opName)") }
        return try ChannelsFirstConvolutionKernel(node: node, attributes: attributes)
    }

    private func tail(_ c: Case) -> [PostOp] {
        guard c.tail else { return [] }
        return [.affine(scale: values(c.filters, seed: 13).map { $0 + 1.5 }, shift: values(c.filters, seed: 14)),
                .activation(.relu())]
    }

    /// Runs `kernel` on `x` with `threads` cores.
    private func run(_ kernel: FusableKernel, _ x: Tensor, tail: [PostOp], threads: Int) throws -> Tensor {
        let context = KernelContext(pool: BufferPool(), parallel: Parallel(workers: threads))
        let value = try context.allocate(x.shape)
        x.floats().withUnsafeBufferPointer { value.pointer.update(from: $0.baseAddress!, count: x.count) }
        return try kernel.run([value], context, tail: tail).tensor()
    }

    func testMatchesTheDirectConvolution() throws {
        try BLAS.load()
        for c in cases {
            let direct = try direct(node(c))
            let x = Tensor(shape: c.input, floats: values(c.input.reduce(1, *), seed: 7))
            let expected = try run(direct, x, tail: tail(c), threads: 1)
            for (tile, tolerance) in [(WinogradTile.f2x2, Self.f2Tolerance), (.f4x4, Self.f4Tolerance)] {
                // The default budget; blocks of the fewest tiles the cores work through in blocks of
                // their own (the larger cases then do); blocks of 5 tiles (one core: several blocks
                // per image, straddling images).
                let perTile = tile.elements * (c.input[1] + c.filters)
                for budget in [ChannelsFirstWinogradKernel.defaultBlockBudget,
                               ChannelsFirstWinogradKernel.minimumBlockTiles * perTile, 5 * perTile] {
                    let winograd = try XCTUnwrap(ChannelsFirstWinogradKernel(direct, tile: tile, minimumOutputs: 1,
                                                                             blockBudget: budget), c.name)
                    for threads in [1, 2, 3] {
                        let actual = try run(winograd, x, tail: tail(c), threads: threads)
                        assertClose(actual, expected, tolerance: tolerance, "\(c.name), \(tile), budget \(budget), \(threads) threads")
                    }
                }
            }
        }
    }

    func testMatchesOnnxruntimeOnAPadded3x3Convolution() throws {
        let onnx = try ONNXKernelCase("conv3x3_pads")
        let conv = onnx.model.nodes[0]
        let made = try KernelFactory.make(conv) as? ChannelsFirstWinogradKernel
        XCTAssertEqual(made?.tile, .f4x4, "32 -> 40 channels")
        XCTAssertGreaterThanOrEqual(onnx.expected.count / 40, made?.minimumOutputs ?? .max, "run by Winograd")
        try onnx.check()
        let direct = try direct(conv)
        for (tile, tolerance) in [(WinogradTile.f2x2, Self.f2Tolerance), (.f4x4, Self.f4Tolerance)] {
            let winograd = try XCTUnwrap(ChannelsFirstWinogradKernel(direct, tile: tile, minimumOutputs: 1))
            assertClose(try run(winograd, onnx.x, tail: [], threads: 2), onnx.expected, tolerance: tolerance, "\(tile)")
        }
        let runner = try ModelRunner(model: onnx.model, options: RunOptions(winograd: false))
        assertClose(try runner.run([onnx.x])[0], onnx.expected, "winograd off")
    }

    func testTakesOnlyStrideOneUngrouped3x3ConvolutionsWithEnoughChannels() throws {
        func kernel(_ conv: Convolution, cin: Int) throws -> ChannelsFirstWinogradKernel? {
            let shape = [conv.filters, cin / conv.groups] + conv.kernelSize
            let node = Node(name: "c", op: .conv(conv), inputs: ["x"], outputs: ["y"],
                            weights: [Weight(role: .kernel, tensor: Tensor(shape: shape, floats: values(shape.reduce(1, *), seed: 1)),
                                             layout: .oihw, storageKey: "k")])
            return ChannelsFirstWinogradKernel(try direct(node))
        }
        func conv(filters: Int = 64, kernel: [Int] = [3, 3], strides: [Int]? = nil, dilations: [Int]? = nil, groups: Int = 1) -> Convolution {
            Convolution(rank: 2, filters: filters, kernelSize: kernel, strides: strides, dilations: dilations,
                        groups: groups, useBias: false, layout: .channelsFirst)
        }
        XCTAssertNotNil(try kernel(conv(), cin: 64))
        XCTAssertNil(try kernel(conv(strides: [2, 2]), cin: 64))
        XCTAssertNil(try kernel(conv(dilations: [2, 2]), cin: 64))
        XCTAssertNil(try kernel(conv(groups: 2), cin: 64))
        XCTAssertNil(try kernel(conv(kernel: [3, 1]), cin: 64))
        XCTAssertNil(try kernel(conv(kernel: [5, 5]), cin: 64))
        XCTAssertNil(try kernel(conv(), cin: ChannelsFirstWinogradKernel.minimumChannels - 1))
        XCTAssertNil(try kernel(conv(filters: ChannelsFirstWinogradKernel.minimumChannels - 1), cin: 64))
    }

    func testWideLayersTakeTheSmallTile() throws {
        XCTAssertEqual(ChannelsFirstWinogradKernel.tile(inputChannels: 64, outputChannels: 64), .f4x4)
        XCTAssertEqual(ChannelsFirstWinogradKernel.tile(inputChannels: 128, outputChannels: 128), .f4x4)
        XCTAssertEqual(ChannelsFirstWinogradKernel.tile(inputChannels: 128, outputChannels: 256), .f2x2)
        XCTAssertEqual(ChannelsFirstWinogradKernel.tile(inputChannels: 512, outputChannels: 512), .f2x2)
    }

    func testTooFewOutputsRunTheDirectKernel() throws {
        try BLAS.load()
        let c = Case(name: "one tile", input: [1, 32, 2, 2], filters: 32)
        let direct = try direct(node(c))
        let winograd = try XCTUnwrap(ChannelsFirstWinogradKernel(direct))
        let x = Tensor(shape: c.input, floats: values(c.input.reduce(1, *), seed: 7))
        let expected = try run(direct, x, tail: tail(c), threads: 2)
        let actual = try run(winograd, x, tail: tail(c), threads: 2)
        XCTAssertEqual(actual.shape, expected.shape)
        XCTAssertEqual(actual.floats(), expected.floats(), "the direct kernel's own numbers")
    }
}
