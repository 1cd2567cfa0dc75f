@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The channels-first transposed convolution against the channels-last one run through the
/// layout adapter (what channels-first models ran before): strides, paddings, dilations, output
/// padding, groups, a bias and a fused tail.
final class ChannelsFirstConvolutionTransposeKernelTests: XCTestCase, EngineTestData {
    func testMatchesTheChannelsLastKernelOnEveryGeometry() throws {
        // (in, out, groups, kernel, stride, dilation, padding before/after, output padding, height, width)
        let cases: [(cin: Int, cout: Int, g: Int, k: Int, s: Int, d: Int, pad: Pair, outPad: Int?, h: Int, w: Int)] = [
            (6, 4, 1, 2, 2, 1, Pair(0, 0), nil, 5, 7),      // paddle2onnx's FPN upsampling
            (4, 6, 2, 3, 2, 1, Pair(1, 1), 1, 4, 6),        // grouped, output padding
            (3, 5, 1, 3, 1, 2, Pair(2, 1), nil, 6, 5),      // dilated, uneven padding
            (5, 3, 1, 4, 3, 1, Pair(1, 2), 2, 3, 4),        // stride 3
        ]
        let pool = BufferPool()
        let context = KernelContext(pool: pool, parallel: .allCores)
        for t in cases {
            let attributes = Convolution(rank: 2, filters: t.cout, kernelSize: [t.k, t.k], strides: [t.s, t.s],
                                         dilations: [t.d, t.d], padding: .explicit([t.pad, t.pad]), groups: t.g,
                                         outputPadding: t.outPad.map { [$0, $0] }, useBias: true, layout: .channelsFirst)
            let node = Node(name: "up", op: .convTranspose(attributes), inputs: ["x"], outputs: ["y"],
                            weights: [Weight(role: .kernel, tensor: Tensor(shape: [t.cin, t.cout / t.g, t.k, t.k],
                                                                         floats: values(t.cin * t.cout / t.g * t.k * t.k, seed: 3)),
                                             layout: .iohw, storageKey: "up/k"),
                                      Weight(role: .bias, tensor: Tensor(shape: [t.cout], floats: values(t.cout, seed: 4)), storageKey: "up/b")])
            let kernel = try KernelFactory.make(node)
            XCTAssertTrue(kernel is ChannelsFirstConvolutionTransposeKernel, "\(t)")
            let reference = ChannelsFirstAdapter(inner: try ConvolutionTransposeKernel(node: node, attributes: attributes))
            let x = Tensor(shape: [2, t.cin, t.h, t.w], floats: values(2 * t.cin * t.h * t.w, seed: 5))
            let tail: [PostOp] = [.activation(.relu(maxValue: 6, threshold: 0, negativeSlope: 0))]
            let got = try (kernel as! ChannelsFirstConvolutionTransposeKernel).run([value(x.shape, x.floats(), pool)], context, tail: tail).tensor()
            var expected = try reference.run([value(x.shape, x.floats(), pool)], context).tensor()
            expected = Tensor(shape: expected.shape, floats: expected.floats().map { min(max($0, 0), 6) })
            XCTAssertEqual(got.shape, expected.shape, "\(t)")
            for (a, b) in zip(got.floats(), expected.floats()) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(t)") }
        }
    }
}
