import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvTestSupport

/// Structural and algebraic tests of the fold pass on hand-built models. End-to-end numbers
/// against real Keras outputs live in the fixture tests.
final class FoldBatchNormTests: XCTestCase {
    typealias M = FoldTestModels

    /// BN(x W + b) computed directly in Double equals x W' + b' from the folded dense layer.
    func testDenseFoldIsExactInDouble() throws {
        var rng = M.Random(state: 1)
        let kernel = M.weight(.kernel, [3, 4], .io, &rng, dtype: .float64)
        let bias = M.weight(.bias, [4], .vector, &rng, dtype: .float64)
        let dense = Node(name: "dense", op: .dense(Dense(units: 4)), inputs: ["input"], outputs: ["p"], weights: [kernel, bias])
        let bnW = M.bnWeights(4, &rng).map { w -> Weight in var w = w; w.tensor = w.tensor.converted(to: .float64); return w }
        let model = M.chain(producer: dense, bnWeights: bnW, rank: 2)
        let result = try FoldBatchNorm().apply(to: model)

        XCTAssertEqual(result.decisions.map(\.target), ["dense"])
        XCTAssertNil(result.model.node(named: "bn"))
        XCTAssertEqual(result.model.outputs, ["p"])
        XCTAssertEqual(result.valueMap, ["bn": "p"])
        let folded = try XCTUnwrap(result.model.node(named: "dense"))
        XCTAssertTrue(folded.weight(.kernel)!.isModified)

        let x = rng.uniform(3, -2, 2)
        let w = kernel.tensor.doubles(), b = bias.tensor.doubles()
        let (g, be, m, v) = (bnW[0].tensor.doubles(), bnW[1].tensor.doubles(), bnW[2].tensor.doubles(), bnW[3].tensor.doubles())
        let w2 = folded.weight(.kernel)!.tensor.doubles(), b2 = folded.weight(.bias)!.tensor.doubles()
        for o in 0..<4 {
            let z = (0..<3).reduce(b[o]) { $0 + x[$1] * w[$1 * 4 + o] }
            let reference = g[o] * (z - m[o]) / (v[o] + 1.001e-5).squareRoot() + be[o]
            let foldedValue = (0..<3).reduce(b2[o]) { $0 + x[$1] * w2[$1 * 4 + o] }
            XCTAssertEqual(foldedValue, reference, accuracy: 1e-12 * max(1, abs(reference)))
        }
    }

    /// A float16 dense layer whose folded kernel or bias would exceed 65504 keeps its BN, with the
    /// reason, instead of writing infinities (whether or not the fold is then verified).
    func testAFloat16FoldThatWouldOverflowIsKept() throws {
        var rng = M.Random(state: 7)
        let kernel = M.weight(.kernel, [3, 4], .io, &rng, lo: 100, hi: 200, dtype: .float16)
        let dense = Node(name: "dense", op: .dense(Dense(units: 4)), inputs: ["input"], outputs: ["p"], weights: [kernel])
        var bnW = M.bnWeights(4, &rng)
        // Variance 1, so the scale is about gamma: channel 2's 300 takes 100-200 to 30000-60000 (still
        // float16), channel 3's 1000 to 100000-200000 (infinity in float16).
        bnW[1].tensor = Tensor(shape: [4], doubles: [0, 0, 0, 0], dtype: .float32)   // beta
        bnW[0].tensor = Tensor(shape: [4], doubles: [1, 1, 300, 1000], dtype: .float32)   // gamma
        bnW[3].tensor = Tensor(shape: [4], doubles: [1, 1, 1, 1], dtype: .float32)
        let model = M.chain(producer: dense, bnWeights: bnW, rank: 2)
        let result = try FoldBatchNorm().apply(to: model)
        XCTAssertEqual(result.decisions.first?.folds, false)
        let reason = try XCTUnwrap(result.decisions.first?.reason)
        XCTAssertTrue(reason.contains("folding into dense would make its kernel"), reason)
        XCTAssertTrue(reason.contains("beyond float16's largest value (65504)"), reason)
        XCTAssertNotNil(result.model.node(named: "bn"), "the BN stays")

        // Without the overflowing channel the same layer folds, every value finite in float16.
        bnW[0].tensor = Tensor(shape: [4], doubles: [1, 1, 300, 1], dtype: .float32)
        let fits = try FoldBatchNorm().apply(to: M.chain(producer: dense, bnWeights: bnW, rank: 2))
        XCTAssertEqual(fits.decisions.first?.folds, true, "\(fits.decisions)")
        let folded = try XCTUnwrap(fits.model.node(named: "dense")?.weight(.kernel)?.tensor)
        XCTAssertEqual(folded.dtype, .float16)
        XCTAssertTrue(folded.doubles().allSatisfy(\.isFinite))
        XCTAssertGreaterThan(folded.doubles().map(abs).max() ?? 0, 30000, "channel 2 was scaled by about 300")
    }

    /// A BN before a float16 dense folds into its input channels only when the folded kernel and
    /// bias fit float16: beyond 65504 it is kept with the reason, and nothing infinite is written.
    func testAFloat16FoldIntoTheNextLayerThatWouldOverflowIsKept() throws {
        func vector(_ role: WeightRole, _ values: [Double]) -> Weight {
            Weight(role: role, tensor: Tensor(shape: [2], doubles: values, dtype: .float32), storageKey: role.rawValue)
        }
        func model(gamma: Double) -> Model {
            let input = Node(name: "input", op: .input, inputs: [], outputs: ["input"])
            let bn = Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: -1)), inputs: ["input"], outputs: ["bn"],
                          weights: [vector(.gamma, [gamma, 1]), vector(.beta, [0.5, 0]), vector(.movingMean, [0.2, 0.1]), vector(.movingVariance, [0.5, 1])])
            let kernel = Weight(role: .kernel, tensor: Tensor(shape: [2, 3], doubles: [100, 1, 1, 1, 1, 1], dtype: .float16), layout: .io, storageKey: "k")
            let dense = Node(name: "head", op: .dense(Dense(units: 3, useBias: false)), inputs: ["bn"], outputs: ["y"], weights: [kernel])
            var values: [String: ValueInfo] = [:]
            for v in ["input", "bn", "y"] { values[v] = ValueInfo(name: v, shape: [nil, 2], layout: .channelsLast) }
            return Model(name: "t", format: .onnx, inputs: ["input"], outputs: ["y"], nodes: [input, bn, dense], values: values)
        }
        let kept = try FoldBatchNorm().apply(to: model(gamma: 1000))
        XCTAssertEqual(kept.decisions.first?.folds, false)
        XCTAssertTrue(kept.decisions.first?.reason?.contains("folding into head after it would make its kernel") ?? false, "\(kept.decisions)")
        XCTAssertTrue(kept.decisions.first?.reason?.contains("beyond float16's largest value (65504)") ?? false, "\(kept.decisions)")
        XCTAssertNotNil(kept.model.node(named: "bn"))

        let folded = try FoldBatchNorm().apply(to: model(gamma: 2))
        XCTAssertEqual(folded.decisions.first?.target, "head")
        let head = try XCTUnwrap(folded.model.node(named: "head"))
        XCTAssertTrue((head.weights.flatMap { $0.tensor.doubles() }).allSatisfy(\.isFinite))
    }

    /// Depthwise kernels (kh, kw, in, mult) scale channel `i * mult + m`; a bias is added.
    func testDepthwiseMultiplierChannelOrder() throws {
        var rng = M.Random(state: 2)
        let kernel = M.weight(.kernel, [1, 1, 2, 3], .hwcm, &rng)
        let conv = Node(name: "dw", op: .depthwiseConv(Convolution(rank: 2, filters: 6, kernelSize: [1, 1], depthMultiplier: 3, useBias: false)),
                        inputs: ["input"], outputs: ["p"], weights: [kernel])
        let bnW = M.bnWeights(6, &rng, center: false)
        let result = try FoldBatchNorm().apply(to: M.chain(producer: conv, bn: BatchNorm(epsilon: 2e-3, center: false), bnWeights: bnW, rank: 4))
        let folded = try XCTUnwrap(result.model.node(named: "dw"))
        guard case .depthwiseConv(let c) = folded.op else { return XCTFail("op changed") }
        XCTAssertTrue(c.useBias)
        let affine = try BatchNormAffine(node: M.chain(producer: conv, bn: BatchNorm(epsilon: 2e-3, center: false), bnWeights: bnW, rank: 4).node(named: "bn")!,
                                         attributes: BatchNorm(epsilon: 2e-3, center: false))
        let w = kernel.tensor.doubles(), w2 = folded.weight(.kernel)!.tensor.doubles()
        for i in 0..<2 { for m in 0..<3 {
            XCTAssertEqual(w2[i * 3 + m], Double(Float(w[i * 3 + m] * affine.scale[i * 3 + m])), accuracy: 1e-7)
        } }
        XCTAssertEqual(folded.weight(.bias)!.tensor.shape, [6])
        XCTAssertEqual(folded.weight(.bias)!.storageKey, "")
    }

    /// Transposed-conv kernels (kh, kw, out, in) carry output channels on axis 2.
    func testTransposedConvOutputAxis() throws {
        let view = try XCTUnwrap(ChannelView.output(of: .hwoi, shape: [2, 2, 3, 5]))
        XCTAssertEqual(view, ChannelView(outer: 4, channels: 3, inner: 5))
        var values = [Double](repeating: 1, count: 60)
        view.scale(&values, by: [1, 2, 3])
        // Element (h, w, o, i) has flat index ((h*2 + w)*3 + o)*5 + i.
        XCTAssertEqual(values[((1 * 2 + 1) * 3 + 2) * 5 + 4], 3)
        XCTAssertEqual(values[((0 * 2 + 1) * 3 + 1) * 5 + 0], 2)
    }

    /// Grouped ONNX ConvTranspose (I, O/group, k...): element (i, o') is channel g*(O/group)+o'.
    func testGroupedTransposedConvChannelMapping() throws {
        let view = try XCTUnwrap(ChannelView.output(of: .iohw, shape: [4, 3, 1, 1], groups: 2))
        XCTAssertEqual(view.totalChannels, 6)
        var values = [Double](repeating: 1, count: 12)
        view.scale(&values, by: [1, 2, 3, 4, 5, 6])
        // i = 0, 1 are group 0 (channels 0..2); i = 2, 3 group 1 (channels 3..5).
        XCTAssertEqual(values, [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    }

    /// BN before an unpadded conv folds into its input channels; with SAME padding it is kept.
    func testBatchNormBeforeConvFoldsOnlyWithoutPadding() throws {
        var rng = M.Random(state: 3)
        let bnW = M.bnWeights(2, &rng)
        for (padding, folds) in [(Padding.valid, true), (.same, false)] {
            let kernel = M.weight(.kernel, [3, 3, 2, 4], .hwio, &rng)
            let input = Node(name: "input", op: .input, inputs: [], outputs: ["input"])
            let bn = Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: 3)), inputs: ["input"], outputs: ["bn"], weights: bnW)
            let conv = Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 4, kernelSize: [3, 3], padding: padding, useBias: false)),
                            inputs: ["bn"], outputs: ["conv"], weights: [kernel])
            let values = Dictionary(uniqueKeysWithValues: ["input", "bn", "conv"].map { ($0, ValueInfo(name: $0, shape: [nil, 5, 5, 2], layout: .channelsLast)) })
            let model = Model(name: "t", format: .keras2H5, inputs: ["input"], outputs: ["conv"], nodes: [input, bn, conv], values: values)
            let result = try FoldBatchNorm().apply(to: model)
            XCTAssertEqual(result.decisions.first?.folds, folds, "\(padding)")
            if folds {
                XCTAssertEqual(result.decisions.first?.direction, .intoConsumer)
                XCTAssertEqual(result.model.node(named: "conv")?.inputs, ["input"])
                // Per output channel o: b'[o] = sum_{h,w,i} W[h,w,i,o] * shift[i].
                let affine = try BatchNormAffine(node: bn, attributes: BatchNorm(epsilon: 1e-3, axis: 3))
                let w = kernel.tensor.doubles()
                let b2 = result.model.node(named: "conv")!.weight(.bias)!.tensor.doubles()
                for o in 0..<4 {
                    var expected = 0.0
                    for s in 0..<9 { for i in 0..<2 { expected += w[(s * 2 + i) * 4 + o] * affine.shift[i] } }
                    XCTAssertEqual(b2[o], expected, accuracy: 1e-5)
                }
            } else {
                XCTAssertTrue(result.decisions.first?.reason?.contains("pads with zeros") ?? false, result.decisions.first?.reason ?? "")
            }
        }
    }

    /// Unsafe cases are kept, each with its own reason.
    func testRefusalsNameTheirReason() throws {
        var rng = M.Random(state: 4)
        func conv(activation: Activation = .linear) -> Node {
            Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 3, kernelSize: [1, 1], activation: activation)),
                 inputs: ["input"], outputs: ["p"], weights: [M.weight(.kernel, [1, 1, 2, 3], .hwio, &rng), M.weight(.bias, [3], .vector, &rng)])
        }
        let bnW = M.bnWeights(3, &rng)
        let cases: [(String, Model, String)] = [
            ("fan-out", M.chain(producer: conv(), bnWeights: bnW, rank: 4,
                                extraNodes: [Node(name: "other", op: .activation(.relu()), inputs: ["p"], outputs: ["other"])],
                                outputs: ["bn", "other"]), "also feeds other"),
            ("fused activation", M.chain(producer: conv(activation: .relu()), bnWeights: bnW, rank: 4), "applies its own ReLU"),
            ("training", M.chain(producer: conv(), bn: BatchNorm(axis: -1, training: true), bnWeights: bnW, rank: 4), "training mode"),
            ("axis", M.chain(producer: conv(), bn: BatchNorm(axis: 1), bnWeights: bnW, rank: 4), "normalizes axis 1"),
            ("model output", M.chain(producer: conv(), bnWeights: bnW, rank: 4, outputs: ["bn", "p"]), "is also a model output"),
        ]
        for (label, model, expected) in cases {
            let decisions = planBatchNormFolds(model)
            XCTAssertEqual(decisions.count, 1, label)
            XCTAssertNil(decisions[0].target, label)
            XCTAssertTrue(decisions[0].reason?.contains(expected) ?? false, "\(label): \(decisions[0].reason ?? "nil")")
        }
        XCTAssertEqual(planBatchNormFolds(M.chain(producer: conv(), bnWeights: bnW, rank: 4), keep: ["bn"]).first?.reason,
                       "kept on request (--keep)")
    }

    /// Negative variance + epsilon, NaN statistics and a length mismatch are refused, never folded into NaNs.
    func testNumericHazardsAreKept() throws {
        var rng = M.Random(state: 5)
        let conv = Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 2, kernelSize: [1, 1])), inputs: ["input"], outputs: ["p"],
                        weights: [M.weight(.kernel, [1, 1, 2, 2], .hwio, &rng), M.weight(.bias, [2], .vector, &rng)])
        var bnW = M.bnWeights(2, &rng)
        bnW[3].tensor = Tensor(shape: [2], doubles: [1, -0.5], dtype: .float32)
        XCTAssertTrue(planBatchNormFolds(M.chain(producer: conv, bnWeights: bnW, rank: 4))[0].reason?.contains("<= 0 at channel 1") ?? false)
        bnW[3].tensor = Tensor(shape: [2], doubles: [1, .nan], dtype: .float32)
        XCTAssertTrue(planBatchNormFolds(M.chain(producer: conv, bnWeights: bnW, rank: 4))[0].reason?.contains("NaN") ?? false)
        bnW[3].tensor = Tensor(shape: [3], doubles: [1, 1, 1], dtype: .float32)
        XCTAssertTrue(planBatchNormFolds(M.chain(producer: conv, bnWeights: bnW, rank: 4))[0].reason?.contains("channels") ?? false)
    }

    /// float16 and bfloat16 kernels stay in their dtype after folding.
    func testHalfPrecisionDtypesAreKept() throws {
        for dtype in [DType.float16, .bfloat16] {
            var rng = M.Random(state: 6)
            let conv = Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 2, kernelSize: [1, 1], useBias: false)),
                            inputs: ["input"], outputs: ["p"], weights: [M.weight(.kernel, [1, 1, 2, 2], .hwio, &rng, dtype: dtype)])
            let bnW = M.bnWeights(2, &rng).map { w -> Weight in var w = w; w.tensor = w.tensor.converted(to: dtype); return w }
            let result = try FoldBatchNorm().apply(to: M.chain(producer: conv, bnWeights: bnW, rank: 4))
            let folded = try XCTUnwrap(result.model.node(named: "conv"))
            XCTAssertEqual(folded.weight(.kernel)?.tensor.dtype, dtype)
            XCTAssertEqual(folded.weight(.bias)?.tensor.dtype, dtype)
        }
    }

    /// conv -> BN -> BN folds both BNs (the second becomes foldable once the first is gone).
    func testChainedBatchNormsBothFold() throws {
        var rng = M.Random(state: 7)
        let conv = Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 2, kernelSize: [1, 1])), inputs: ["input"], outputs: ["p"],
                        weights: [M.weight(.kernel, [1, 1, 2, 2], .hwio, &rng), M.weight(.bias, [2], .vector, &rng)])
        let bn2 = Node(name: "bn2", op: .batchNorm(BatchNorm(epsilon: 1e-3)), inputs: ["bn"], outputs: ["bn2"], weights: M.bnWeights(2, &rng))
        let model = M.chain(producer: conv, bnWeights: M.bnWeights(2, &rng), rank: 4, extraNodes: [bn2], outputs: ["bn2"])
        let result = try FoldBatchNorm().apply(to: model)
        XCTAssertEqual(result.decisions.map(\.target), ["conv", "conv"])
        XCTAssertEqual(result.model.outputs, ["p"])
        XCTAssertEqual(result.valueMap["bn2"], "p")
        XCTAssertNoThrow(try result.model.validate())
    }
}
