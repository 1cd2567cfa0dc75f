@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// ONNX/PyTorch depthwise convolutions (a grouped `Conv` with one input channel per group) run by
/// the direct depthwise kernel, whose narrow planes are computed sixteen channels at a time: the
/// kernel chosen, and its numbers against the plane-by-plane loop (bit for bit) and the grouped
/// GEMM convolution.
final class ChannelBlockedDepthwiseTests: XCTestCase, EngineTestData {
    /// A channels-first grouped conv, `channels * multiplier` outputs, kernel `(C*M, 1, k, k)`.
    private func groupedConv(channels: Int, multiplier: Int, k: Int, stride: Int, dilation: Int, pad: Int) -> Node {
        let outputs = channels * multiplier
        let attributes = Convolution(rank: 2, filters: outputs, kernelSize: [k, k], strides: [stride, stride],
                                     dilations: [dilation, dilation], padding: .explicit([Pair(pad, pad), Pair(pad, pad)]),
                                     groups: channels, layout: .channelsFirst)
        return Node(name: "dw", op: .conv(attributes), inputs: ["x"], outputs: ["y"],
                    weights: [Weight(role: .kernel, tensor: Tensor(shape: [outputs, 1, k, k], floats: values(outputs * k * k, seed: 3)),
                                     layout: .oihw, storageKey: "dw/k"),
                              Weight(role: .bias, tensor: Tensor(shape: [outputs], floats: values(outputs, seed: 4)), storageKey: "dw/b")])
    }

    private func run(_ kernel: EngineKernel, _ x: Tensor) throws -> [Float] {
        let pool = BufferPool()
        let context = KernelContext(pool: pool, parallel: .allCores)
        return try kernel.run([value(x.shape, x.floats(), pool)], context).tensor().floats()
    }

    func testAGroupedConvolutionWithOneInputPerGroupRunsAsDepthwise() throws {
        let node = groupedConv(channels: 6, multiplier: 2, k: 3, stride: 1, dilation: 1, pad: 1)
        XCTAssertTrue(try KernelFactory.make(node) is ChannelsFirstDepthwiseKernel)
        // Two input channels per group: a grouped GEMM convolution.
        var grouped = node
        guard case .conv(var c) = node.op else { return XCTFail() }
        c.groups = 3
        grouped.op = .conv(c)
        grouped.weights[0] = Weight(role: .kernel, tensor: Tensor(shape: [12, 2, 3, 3], floats: values(216, seed: 3)),
                                    layout: .oihw, storageKey: "dw/k")
        XCTAssertFalse(try KernelFactory.make(grouped) is ChannelsFirstDepthwiseKernel)
    }

    func testBlockedPlanesEqualThePlaneLoopAndTheGroupedConvolution() throws {
        // (channels, multiplier, kernel, stride, dilation, padding, height, width): channel counts
        // that fill no whole block; planes wide enough to take several bands of rows.
        let cases: [(c: Int, m: Int, k: Int, s: Int, d: Int, p: Int, h: Int, w: Int)] = [
            (19, 1, 5, 1, 1, 2, 10, 14), (8, 2, 3, 2, 1, 1, 9, 11), (16, 1, 3, 1, 2, 2, 7, 7),
            (3, 3, 3, 1, 1, 0, 6, 5), (17, 1, 5, 2, 1, 2, 5, 7), (4, 1, 3, 1, 1, 1, 4, 40),
            (2, 1, 3, 2, 1, 1, 70, 300), (3, 1, 5, 1, 2, 4, 40, 120),
        ]
        for t in cases {
            let node = groupedConv(channels: t.c, multiplier: t.m, k: t.k, stride: t.s, dilation: t.d, pad: t.p)
            guard case .conv(let attributes) = node.op else { return XCTFail() }
            let x = Tensor(shape: [2, t.c, t.h, t.w], floats: values(2 * t.c * t.h * t.w, seed: 8))
            let depthwise = try XCTUnwrap(try KernelFactory.make(node) as? ChannelsFirstDepthwiseKernel)
            let got = try run(depthwise, x)
            // The definition, the taps summed in the kernel's order.
            let taps = t.k * t.k
            let axes = try ConvolutionKernel.windows(input: [1, t.h, t.w], window: [1, t.k, t.k], strides: attributes.strides,
                                                     dilations: attributes.dilations, padding: attributes.padding, rank: 2)
            let (oh, ow) = (axes[1].output, axes[2].output)
            let weights = try node.weight(.kernel)!.tensor.floats(), bias = try node.weight(.bias)!.tensor.floats()
            var expected = [Float](repeating: 0, count: 2 * t.c * t.m * oh * ow)
            let xs = x.floats()
            for n in 0..<2 {
                for o in 0..<(t.c * t.m) {
                    for yh in 0..<oh {
                        for yw in 0..<ow {
                            var acc: Float = 0
                            for b in 0..<t.k {
                                for a in 0..<t.k {
                                    let hh = yh * t.s - t.p + b * t.d, ww = yw * t.s - t.p + a * t.d
                                    let v: Float = hh < 0 || hh >= t.h || ww < 0 || ww >= t.w ? 0
                                        : xs[((n * t.c + o / t.m) * t.h + hh) * t.w + ww]
                                    acc += v * weights[o * taps + b * t.k + a]
                                }
                            }
                            expected[((n * t.c * t.m + o) * oh + yh) * ow + yw] = acc + bias[o]
                        }
                    }
                }
            }
            XCTAssertEqual(got, expected, "\(t)")
            // The grouped GEMM convolution sums in another order: equal within rounding.
            let gemm = try run(try ChannelsFirstConvolutionKernel(node: node, attributes: attributes), x)
            XCTAssertEqual(gemm.count, got.count)
            for (a, b) in zip(gemm, got) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(t)") }
        }
    }

    func testThreeDimensionalDepthwiseMatchesTheGroupedConvolution() throws {
        // 3-D planes take the plane-by-plane loop.
        let (c, m, k) = (5, 2, 3)
        let attributes = Convolution(rank: 3, filters: c * m, kernelSize: [k, k, k], strides: [1, 2, 1],
                                     padding: .explicit([Pair(1, 1), Pair(1, 1), Pair(0, 0)]), groups: c, layout: .channelsFirst)
        let node = Node(name: "dw3", op: .conv(attributes), inputs: ["x"], outputs: ["y"],
                        weights: [Weight(role: .kernel, tensor: Tensor(shape: [c * m, 1, k, k, k], floats: values(c * m * 27, seed: 5)),
                                         layout: .oihw, storageKey: "dw3/k")])
        let depthwise = try XCTUnwrap(try KernelFactory.make(node) as? ChannelsFirstDepthwiseKernel)
        let x = Tensor(shape: [2, c, 4, 6, 5], floats: values(2 * c * 120, seed: 6))
        let got = try run(depthwise, x)
        let gemm = try run(try ChannelsFirstConvolutionKernel(node: node, attributes: attributes), x)
        XCTAssertEqual(got.count, gemm.count)
        for (a, b) in zip(gemm, got) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testAWindowSpreadByAFilesDilationTakesNoScratch() throws {
        // A 3x3 window dilated by 60,000 with 60,000 padding on a 1x1 plane: one output, which only
        // the centre tap reaches. Interleaved, the window would need 120,001 x 120,001 x 16 floats.
        let node = groupedConv(channels: 2, multiplier: 1, k: 3, stride: 1, dilation: 60_000, pad: 60_000)
        let g = ChannelBlockedDepthwise.Geometry(ih: 1, iw: 1, oh: 1, ow: 1, kh: 3, kw: 3, sh: 1, sw: 1, ph: 60_000, pw: 60_000,
                                                 dh: 60_000, dw: 60_000, multiplier: 1)
        XCTAssertNil(ChannelBlockedDepthwise.scratch(g))
        let huge = ChannelBlockedDepthwise.Geometry(ih: 1, iw: 1, oh: 1, ow: 1, kh: 3, kw: Int(Int32.max), sh: 1, sw: 1, ph: 0, pw: 0,
                                                    dh: Int(Int32.max), dw: Int(Int32.max), multiplier: 1)
        XCTAssertNil(ChannelBlockedDepthwise.scratch(huge), "overflowing products are refused, not trapped on")
        let x = Tensor(shape: [1, 2, 1, 1], floats: [0.5, -2])
        let got = try run(try KernelFactory.make(node), x)
        let weights = try node.weight(.kernel)!.tensor.floats(), bias = try node.weight(.bias)!.tensor.floats()
        XCTAssertEqual(got, [0.5 * weights[4] + bias[0], -2 * weights[13] + bias[1]])
    }
}
