import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Pattern recognition on TensorFlow-written graphs, checked against what TensorFlow itself reported
/// (facts.json): BN counts, epsilons, data formats, training flags; op mapping and weight layouts.
final class GraphDefReaderTests: XCTestCase {
    private func read(_ name: String) throws -> Model { try GraphDefReader.read(TensorFlowFixtures.graph(name)) }

    private func batchNorms(_ model: Model) -> [(node: Node, bn: BatchNorm)] {
        model.batchNormIndices.map { i in
            guard case .batchNorm(let bn) = model.nodes[i].op else { fatalError("not a BN") }
            return (model.nodes[i], bn)
        }
    }

    /// Every fixture: one BatchNorm node per FusedBatchNorm* and per Rsqrt chain TensorFlow counted,
    /// with TensorFlow's epsilon (float32), is_training and data_format; no opaque node is left
    /// (each op of these graphs is modelled or absorbed); the model validates.
    func testBatchNormsMatchTensorFlowFacts() throws {
        let cases = try TensorFlowFixtures.cases()
        XCTAssertEqual(cases.count, 23)
        for name in cases {
            let facts = try TensorFlowFixtures.facts(name)
            let model = try read(name)
            try model.validate()
            let bns = batchNorms(model)
            let global = facts.global_normalization_batch_norms ?? []
            XCTAssertEqual(bns.count, facts.fused_batch_norms.count + facts.decomposed_batch_norms.count + global.count, name)
            for g in global {
                guard let (_, bn) = bns.first(where: { $0.node.name == g.name }) else {
                    XCTFail("\(name): no BN node \(g.name)"); continue
                }
                XCTAssertEqual(bn.epsilon, g.epsilon, "\(name): \(g.name) epsilon")
                XCTAssertEqual(bn.scale, g.scale_after_normalization, "\(name): \(g.name) scale")
                XCTAssertFalse(bn.training)
            }
            for fused in facts.fused_batch_norms {
                guard let (_, bn) = bns.first(where: { $0.node.name == fused.name }) else {
                    XCTFail("\(name): no BN node \(fused.name)"); continue
                }
                XCTAssertEqual(bn.epsilon, fused.epsilon, "\(name): \(fused.name) epsilon")
                XCTAssertEqual(bn.training, fused.is_training, "\(name): \(fused.name) training")
                XCTAssertEqual(bn.axis, fused.data_format == "NCHW" ? 1 : -1, "\(name): \(fused.name) axis")
            }
            for chain in facts.decomposed_batch_norms {
                let scope = String(chain.rsqrt.dropLast("/Rsqrt".count))
                guard let (_, bn) = bns.first(where: { $0.node.name == scope }) else {
                    XCTFail("\(name): no BN node \(scope)"); continue
                }
                XCTAssertEqual(bn.epsilon, chain.epsilon, "\(name): \(scope) epsilon")
                XCTAssertFalse(bn.training)
            }
            let opaque = model.nodes.filter { if case .opaque = $0.op { return true } else { return false } }
            XCTAssertEqual(opaque.map(\.name), [], name)
            XCTAssertEqual(model.inputs, ["input"], name)
            XCTAssertEqual(model.outputs, [facts.outputNode], name)
            XCTAssertEqual(model.format, .graphDef)
        }
    }

    /// A FusedBatchNormV3 whose epsilon attribute was stripped reads with the op-def default
    /// 1e-4 (float32), not 0, as TensorFlow applied when it computed the fixture's output.
    func testMissingEpsilonTakesOpDefDefault() throws {
        let facts = try TensorFlowFixtures.facts("fused_bn_no_epsilon")
        XCTAssertEqual(facts.fused_batch_norms.map(\.epsilon_attr_present), [false])
        let bn = try XCTUnwrap(batchNorms(try read("fused_bn_no_epsilon")).first?.bn)
        XCTAssertEqual(bn.epsilon, Double(Float(1e-4)))
        XCTAssertEqual(bn.epsilon, facts.fused_batch_norms[0].epsilon)
        XCTAssertFalse(bn.training, "is_training=false is still stored")
    }

    /// Without `is_training` a FusedBatchNormV3 is in training mode (op-def default true), as
    /// TensorFlow ran it for the fixture's output; such a BN is kept, with the reason.
    func testMissingIsTrainingMeansTrainingMode() throws {
        let model = try read("fused_bn_training_default")
        let (node, bn) = try XCTUnwrap(batchNorms(model).first)
        XCTAssertTrue(bn.training)
        XCTAssertEqual(bn.epsilon, Double(Float(1e-4)))
        let decision = try XCTUnwrap(planBatchNormFolds(model).first { $0.batchNorm == node.name })
        XCTAssertNil(decision.target)
        XCTAssertTrue(decision.reason?.contains("training") ?? false, "\(decision)")
    }

    /// Conv2D + BiasAdd is one conv node with an hwio kernel and a bias, BN weights are the Consts
    /// behind the ReadVariableOp Identities, and every NodeDef of the pattern is recorded.
    func testConvWithBiasAndFusedBatchNorm() throws {
        let model = try read("conv_bias_bn")
        let conv = try XCTUnwrap(model.node(named: "conv_bias_bn/conv/Conv2D"))
        guard case .conv(let c) = conv.op else { return XCTFail("\(conv.opName)") }
        XCTAssertEqual(c.rank, 2)
        XCTAssertEqual(c.filters, 4)
        XCTAssertEqual(c.kernelSize, [3, 3])
        XCTAssertEqual(c.padding, .same)
        XCTAssertTrue(c.useBias)
        XCTAssertEqual(conv.inputs, ["input"])
        XCTAssertEqual(conv.outputs, ["conv_bias_bn/conv/BiasAdd"])
        XCTAssertEqual(conv.weight(.kernel)?.layout, .hwio)
        XCTAssertEqual(conv.weight(.kernel)?.tensor.shape, [3, 3, 3, 4])
        XCTAssertEqual(conv.weight(.kernel)?.storageKey, "conv_bias_bn/conv/Conv2D/ReadVariableOp/resource")
        XCTAssertEqual(conv.weight(.bias)?.tensor.shape, [4])
        let record = try XCTUnwrap(conv.source as? GraphDefNodeRecord)
        XCTAssertEqual(record.nodeDefNames, ["conv_bias_bn/conv/Conv2D", "conv_bias_bn/conv/BiasAdd"])
        XCTAssertEqual(record.nodeDefs.map(\.op), ["Conv2D", "BiasAdd"])
        let bn = try XCTUnwrap(model.node(named: "conv_bias_bn/bn/FusedBatchNormV3"))
        XCTAssertEqual(bn.inputs, ["conv_bias_bn/conv/BiasAdd"])
        XCTAssertEqual(bn.weights.map(\.role), [.gamma, .beta, .movingMean, .movingVariance])
        XCTAssertTrue(bn.weights.allSatisfy { $0.tensor.shape == [4] && !$0.isShared })
    }

    /// Depthwise (hwcm, multiplier 2), transposed conv (hwoi, its Shape/StridedSlice/Pack output
    /// size absorbed), MatMul (io), Conv1D (ExpandDims/Conv2D/Squeeze as one rank-1 conv) and
    /// SeparableConv2D (depthwise then pointwise conv).
    func testLinearOpPatterns() throws {
        let dw = try XCTUnwrap(try read("depthwise_bn").nodes.first { if case .depthwiseConv = $0.op { return true }; return false })
        guard case .depthwiseConv(let d) = dw.op else { return XCTFail() }
        XCTAssertEqual(d.depthMultiplier, 2)
        XCTAssertEqual(d.filters, 6)
        XCTAssertEqual(dw.weight(.kernel)?.layout, .hwcm)

        let tmodel = try read("conv_transpose_bn")
        let t = try XCTUnwrap(tmodel.nodes.first { if case .convTranspose = $0.op { return true }; return false })
        guard case .convTranspose(let tc) = t.op else { return XCTFail() }
        XCTAssertEqual(tc.filters, 4)
        XCTAssertEqual(tc.strides, [2, 2])
        XCTAssertEqual(t.weight(.kernel)?.layout, .hwoi)
        XCTAssertEqual(t.inputs, ["input"])
        XCTAssertEqual(tmodel.nodes.count, 4, tmodel.dump())

        let dense = try XCTUnwrap(try read("dense_bn").nodes.first { if case .dense = $0.op { return true }; return false })
        XCTAssertEqual(dense.weight(.kernel)?.layout, .io)
        XCTAssertEqual(dense.op, .dense(Dense(units: 5, useBias: true)))

        let c1 = try read("conv1d_bn")
        let conv1d = try XCTUnwrap(c1.nodes.first { if case .conv = $0.op { return true }; return false })
        guard case .conv(let c) = conv1d.op else { return XCTFail() }
        XCTAssertEqual(c.rank, 1)
        XCTAssertEqual(c.kernelSize, [3])
        XCTAssertEqual(conv1d.inputs, ["input"])
        XCTAssertEqual(conv1d.weight(.kernel)?.tensor.shape, [3, 3, 4])
        XCTAssertEqual((conv1d.source as? GraphDefNodeRecord)?.nodeDefs.map(\.op), ["ExpandDims", "Conv2D", "Squeeze", "BiasAdd"])
        XCTAssertEqual(c1.batchNormIndices.count, 1)

        let sep = try read("separable_bn")
        XCTAssertEqual(sep.nodes.map(\.opName), ["Input", "DepthwiseConv2D", "Conv2D", "BatchNormalization", "Identity"])
    }

    /// Keras 3 graphs: the conv bias behind Reshape/Squeeze, both decomposed BNs (4-D and 2-D),
    /// the global pool from Mean over [1, 2].
    func testKeras3Graph() throws {
        let model = try read("keras3")
        XCTAssertEqual(model.nodes.map(\.opName),
                       ["Input", "Conv2D", "BatchNormalization", "Activation", "GlobalAveragePooling", "Dense",
                        "BatchNormalization", "Reshape", "Reshape", "Identity"])
        XCTAssertEqual(model.nodes[7].op, .reshape(targetShape: [5, 1]))
        XCTAssertEqual(model.nodes[8].op, .reshape(targetShape: [5]))
        let conv = model.nodes[1]
        XCTAssertEqual(conv.weight(.bias)?.tensor.shape, [4])
        XCTAssertEqual(conv.weight(.bias)?.storageKey, "keras3_1/conv_1/Reshape/ReadVariableOp/resource")
        let bn = model.nodes[2]
        XCTAssertEqual(bn.inputs, conv.outputs)
        XCTAssertEqual(Set(bn.weights.map(\.role)), [.gamma, .beta, .movingMean, .movingVariance])
        XCTAssertEqual((bn.source as? GraphDefNodeRecord)?.nodeDefNames.count, 7)
    }

    /// A ResNet-style graph: pad, max pool, residual add, global pool, softmax.
    func testMiniResNetOps() throws {
        let model = try read("mini_resnet")
        XCTAssertEqual(model.nodes.map(\.opName), [
            "Input", "Conv2D", "BatchNormalization", "Activation", "ZeroPadding", "MaxPooling", "Conv2D",
            "BatchNormalization", "Activation", "Conv2D", "BatchNormalization", "Add", "Activation",
            "GlobalAveragePooling", "Dense", "Softmax", "Identity"])
        let pad = try XCTUnwrap(model.nodes.first { $0.opName == "ZeroPadding" })
        XCTAssertEqual(pad.op, .pad(padding: [Pair(1, 1), Pair(1, 1)], layout: .channelsLast))
    }

    /// NCHW Conv2D / BiasAdd / FusedBatchNormV3: channels-first conv, BN on axis 1.
    func testChannelsFirstGraph() throws {
        let model = try read("nchw")
        let conv = try XCTUnwrap(model.nodes.first { $0.opName == "Conv2D" })
        guard case .conv(let c) = conv.op else { return XCTFail() }
        XCTAssertEqual(c.layout, .channelsFirst)
        XCTAssertEqual((conv.source as? GraphDefNodeRecord)?.dataFormat, "NCHW")
        XCTAssertEqual(batchNorms(model).map(\.bn.axis), [1])
    }

    /// A file that is not a GraphDef, missing or truncated gives one clear error line.
    func testBadFilesAreRefused() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = try TensorFlowFixtures.bytes("mini_resnet")
        let cut = dir.appendingPathComponent("cut.pb")
        try Data(bytes.prefix(bytes.count / 2)).write(to: cut)
        let e1 = TensorFlowFixtures.checkpointError { _ = try GraphDefReader.read(cut.path) }
        XCTAssertEqual(e1?.kind, .malformed)
        XCTAssertEqual(e1?.file, cut.path)
        let text = dir.appendingPathComponent("text.pb")
        try Data("hello, this is not a graph\n".utf8).write(to: text)
        XCTAssertNotNil(TensorFlowFixtures.checkpointError { _ = try GraphDefReader.read(text.path) })
        let missing = TensorFlowFixtures.checkpointError { _ = try GraphDefReader.read(dir.appendingPathComponent("nope.pb").path) }
        XCTAssertEqual(missing?.kind, .cannotOpen)
    }

    /// A custom op between the BN and the output is an opaque node reading and writing TF tensor
    /// names; its constant operand becomes a Const node with a `value` weight.
    func testUnknownOpIsKeptOpaque() throws {
        let message = try ProtobufGraphDef(bytes: try TensorFlowFixtures.bytes("conv_bias_bn"), file: "g")
        let relu = "conv_bias_bn/re_lu/Relu"
        message.append(ProtobufNodeDef(name: "custom/k", op: "Const", inputs: [], attributes: [
            ("dtype", .type(1)), ("value", .tensor(ProtobufTensorProto(dtype: 1, shape: [], floatValues: [2]))),
        ]))
        message.append(ProtobufNodeDef(name: "custom", op: "MyCustomOp", inputs: [relu, "custom/k", "^NoOp"], attributes: [
            ("T", .type(1)),
        ]))
        message.setInputs(ofNode: "Identity", to: ["custom", "^NoOp"])
        let bytes = message.packed()
        let model = try GraphDefReader.read(bytes: bytes, file: "custom.pb")
        let custom = try XCTUnwrap(model.node(named: "custom"))
        XCTAssertEqual(custom.op, .opaque(type: "MyCustomOp"))
        XCTAssertEqual(custom.inputs, [relu, "custom/k"])
        let k = try XCTUnwrap(model.node(named: "custom/k"))
        // A Const read as a value runs as its tensor passed on (the op library's Identity of it).
        XCTAssertEqual(k.op, .tensor(TensorOp(type: "Identity", opset: 14, arguments: [.weight(WeightRole(rawValue: "value"))])))
        XCTAssertEqual(k.weights.first?.tensor.floats(), [2])
        XCTAssertEqual(model.outputs, ["Identity"])
        XCTAssertTrue(try GraphDefWriter.serialize(model, file: "custom.pb") == bytes)
    }

    /// Shapes are inferred from the Placeholder's declared shape through the modelled ops.
    func testShapesAreInferred() throws {
        let model = try GraphDefReader.read(TensorFlowFixtures.graph("conv_transpose_bn"))
        XCTAssertEqual(model.values["input"]?.shape, [nil, 4, 4, 3])
        XCTAssertEqual(model.values["Identity"]?.shape, [nil, 8, 8, 4])
    }

    /// Half precision: a float16 graph holds half kernels; a mixed_float16 graph reads its float32
    /// kernel through a Cast, which stays the weight (float32) while the op computes in half.
    func testHalfPrecisionGraphs() throws {
        let half = try GraphDefReader.read(TensorFlowFixtures.graph("conv_bn_float16"))
        XCTAssertEqual(half.nodes.map(\.opName), ["Input", "Identity", "Conv2D", "BatchNormalization", "Identity", "Identity"])
        XCTAssertEqual(half.nodes[2].weight(.kernel)?.tensor.dtype, .float16)
        XCTAssertEqual(half.values[half.nodes[2].outputs[0]]?.dtype, .float16)
        XCTAssertEqual(half.values["Identity"]?.dtype, .float32)
        let mixed = try GraphDefReader.read(TensorFlowFixtures.graph("conv_bn_mixed"))
        let conv = try XCTUnwrap(mixed.nodes.first { $0.opName == "Conv2D" })
        XCTAssertEqual(conv.weight(.kernel)?.tensor.dtype, .float32)
        XCTAssertEqual(conv.weight(.kernel)?.storageKey, "conv_bn_mixed/conv/Conv2D/ReadVariableOp/resource")
        XCTAssertEqual(mixed.values[conv.outputs[0]]?.dtype, .float16)
    }

    /// Single-node ops with their attributes and constant operands (concat axis, reshape target,
    /// mean axes, LeakyRelu alpha, pooling windows; a constant operand of Mul/Sub/AddV2 makes a
    /// rescaling).
    func testSingleNodeOps() throws {
        let model = try GraphDefReader.read(TensorFlowFixtures.graph("ops"))
        func op(_ name: String) -> Op? { model.node(named: name)?.op }
        XCTAssertEqual(op("scale"), .rescaling(scale: [Double(Float(1 / 127.5))], offset: [0]))
        XCTAssertEqual(op("shift"), .rescaling(scale: [1], offset: [-1]))
        XCTAssertEqual(op("channel_offset"), .rescaling(scale: [1], offset: [0.1, -0.2, 0.3].map { Double(Float($0)) }))
        XCTAssertEqual(model.node(named: "channel_offset")?.inputs, ["shift"])
        XCTAssertEqual(op("leaky"), .activation(.leakyRelu(alpha: Double(Float(0.3)))))
        XCTAssertEqual(op("elu"), .activation(.elu(alpha: 1)))
        XCTAssertEqual(op("concat"), .concat(axis: -1))
        XCTAssertEqual(model.node(named: "concat")?.inputs, ["leaky", "elu"])
        XCTAssertEqual(op("relu6"), .activation(.relu6))
        XCTAssertEqual(op("maximum"), .elementwise(.maximum))
        XCTAssertEqual(op("sigmoid"), .activation(.sigmoid))
        XCTAssertEqual(op("tanh"), .activation(.tanh))
        XCTAssertEqual(op("sub"), .elementwise(.subtract))
        XCTAssertEqual(op("avgpool"), .pool(Pool(kind: .average, poolSize: [2, 2], strides: [2, 2], padding: .valid)))
        XCTAssertEqual(op("mean"), .globalPool(GlobalPool(kind: .average, keepDims: true)))
        XCTAssertEqual(op("mul"), .elementwise(.multiply))
        XCTAssertEqual(op("flatten"), .reshape(targetShape: [54]))
        XCTAssertEqual(model.node(named: "flatten")?.inputs, ["mul"])
        XCTAssertEqual(op("softmax"), .softmax(axis: -1))
        XCTAssertEqual(model.values["softmax"]?.shape, [nil, 54])
    }

    /// Corrupted graphs (1-4 random byte changes in each fixture graph, 300 per graph) are read or
    /// refused with a CheckpointError; nothing crashes. (68,000 mutations ran clean once the
    /// concat axis guard was in.)
    func testCorruptedGraphsNeverCrash() throws {
        let cases = try TensorFlowFixtures.cases()
        var (read, refused) = (0, 0)
        var state: UInt64 = 42
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for name in cases {
            let original = try TensorFlowFixtures.bytes(name)
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<(1 + next() % 4) { bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next()) }
                do {
                    _ = try GraphDefReader.read(bytes: bytes, file: "fuzz.pb")
                    read += 1
                } catch is CheckpointError {
                    refused += 1
                }
            }
        }
        XCTAssertEqual(read + refused, 300 * cases.count)
        XCTAssertGreaterThan(refused, 0)
    }

    /// tf_keras Flatten (a constant [-1, n]) and Reshape with an unknown batch
    /// (Pack(StridedSlice(Shape(x)), c...)) are reshape nodes; the Shape reading the BN output is
    /// rewired with the Reshape when the BN folds, so the written graph has no dangling input.
    func testFlattenAndBatchPreservingReshape() throws {
        let model = try read("flatten_dense_bn")
        XCTAssertEqual(model.nodes.map(\.opName), ["Input", "Conv2D", "Reshape", "Dense", "BatchNormalization", "Reshape", "Identity"])
        XCTAssertEqual(model.nodes[2].op, .reshape(targetShape: [27]))
        XCTAssertEqual(model.nodes[5].op, .reshape(targetShape: [5, 1]))
        let record = try XCTUnwrap(model.nodes[5].source as? GraphDefNodeRecord)
        XCTAssertEqual(record.mirrorSlots.first?.map(\.nodeDef), ["flatten_dense_bn/resh/Shape"])
        let folded = try FoldBatchNorm().apply(to: model).model
        let back = try GraphDefReader.read(bytes: try GraphDefWriter.serialize(folded, file: "f.pb"), file: "f.pb")
        XCTAssertEqual(back.batchNormIndices, [])
        XCTAssertEqual(back.nodes.map(\.opName), ["Input", "Conv2D", "Reshape", "Dense", "Reshape", "Identity"])
    }
}
