import Foundation
import XCTest
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport

/// The reader's op mapping, checked against facts.json recorded by the generator with onnx.
final class ONNXReaderTests: XCTestCase {
    func testBatchNormsMatchFacts() throws {
        for name in ONNXFixtures.cases {
            let model = try ONNXFixtures.read(name)
            let facts = try XCTUnwrap(try ONNXFixtures.facts(name)["batch_norms"] as? [[String: Any]])
            let bns = model.batchNormIndices.map { model.nodes[$0] }
            XCTAssertEqual(bns.map(\.name), facts.map { $0["name"] as? String ?? "" }, "\(name): BN names")
            for (node, fact) in zip(bns, facts) {
                guard case .batchNorm(let bn) = node.op else { continue }
                XCTAssertEqual(bn.epsilon, (fact["epsilon"] as? NSNumber)?.doubleValue ?? -1,
                               accuracy: 1e-12, "\(name)/\(node.name): epsilon")
                XCTAssertEqual(bn.training, (fact["training_mode"] as? Int) == 1, "\(name)/\(node.name): training")
                XCTAssertEqual(bn.axis, 1)
                XCTAssertEqual(node.inputs.count, 1, "\(name)/\(node.name): statistics are weights, not inputs")
                XCTAssertEqual(node.weights.map(\.role), [.gamma, .beta, .movingMean, .movingVariance])
                XCTAssertEqual(node.weight(.movingMean)?.tensor.shape, [fact["channels"] as? Int ?? -1])
            }
        }
    }

    func testConvolutionsMatchFacts() throws {
        for name in ONNXFixtures.cases {
            let model = try ONNXFixtures.read(name)
            let facts = try XCTUnwrap(try ONNXFixtures.facts(name)["convs"] as? [[String: Any]])
            for fact in facts {
                let node = try XCTUnwrap(model.node(named: fact["name"] as? String ?? ""), "\(name): \(fact)")
                let kernel = try XCTUnwrap(node.weight(.kernel), "\(name)/\(node.name): kernel")
                XCTAssertEqual(node.weight(.bias) != nil, fact["bias"] as? Bool, "\(name)/\(node.name): bias")
                switch (node.op, fact["op"] as? String) {
                case (.conv(let c), "Conv"):
                    XCTAssertEqual(c.groups, fact["group"] as? Int, "\(name): group")
                    XCTAssertEqual(kernel.layout, .oihw)
                    XCTAssertEqual(c.filters, kernel.tensor.shape[0])
                    XCTAssertEqual(c.layout, .channelsFirst)
                    XCTAssertEqual(c.useBias, fact["bias"] as? Bool)
                case (.convTranspose(let c), "ConvTranspose"):
                    XCTAssertEqual(c.groups, fact["group"] as? Int, "\(name): group")
                    XCTAssertEqual(kernel.layout, .iohw)
                    XCTAssertEqual(c.filters, kernel.tensor.shape[1] * c.groups)
                    XCTAssertEqual(c.outputPadding, [1, 1])
                    XCTAssertEqual(c.strides, [2, 2])
                    XCTAssertEqual(c.padding, .explicit([Pair(1, 1), Pair(1, 1)]))
                default:
                    XCTFail("\(name)/\(node.name): \(node.opName) is not a \(fact["op"] ?? "?")")
                }
            }
        }
    }

    func testOpCountsMatchFacts() throws {
        for name in ONNXFixtures.cases {
            let model = try ONNXFixtures.read(name)
            let counts = try XCTUnwrap(try ONNXFixtures.facts(name)["op_counts"] as? [String: Int])
            // Every ONNX node is one model node, except MatMul + Add pairs (one dense node) and
            // Constant nodes (read as constants).
            let merged = min(counts["MatMul"] ?? 0, counts["Add"] ?? 0)
            XCTAssertEqual(model.nodes.filter { $0.op != .input }.count,
                           counts.values.reduce(0, +) - merged - (counts["Constant"] ?? 0), name)
            XCTAssertEqual(model.batchNormIndices.count, counts["BatchNormalization"] ?? 0, name)
        }
    }

    func testDenseLayoutsFollowTransB() throws {
        let transB = try XCTUnwrap(try ONNXFixtures.read("gemm_transb_bn").node(named: "fc"))
        XCTAssertEqual(transB.weight(.kernel)?.layout, .oi)
        XCTAssertEqual(transB.op, .dense(Dense(units: 5, useBias: true)))
        let plain = try XCTUnwrap(try ONNXFixtures.read("gemm_bn").node(named: "fc"))
        XCTAssertEqual(plain.weight(.kernel)?.layout, .io)
        XCTAssertEqual(plain.op, .dense(Dense(units: 5, useBias: true)))
    }

    func testMatMulPlusAddBecomesOneDense() throws {
        let model = try ONNXFixtures.read("matmul_add_bn")
        let dense = try XCTUnwrap(model.node(named: "mm"))
        XCTAssertEqual(dense.op, .dense(Dense(units: 5, useBias: true)))
        XCTAssertEqual(dense.inputs, ["input"])
        XCTAssertEqual(dense.outputs, ["mm_add_out"])
        XCTAssertEqual(dense.weight(.bias)?.storageKey, "mm.bias")
        XCTAssertNil(model.node(named: "mm_add"))
        XCTAssertEqual((dense.source as? ONNXNodeRecord)?.parts.map(\.opType), ["MatMul", "Add"])
    }

    func testOpsZooMapsEveryOp() throws {
        let model = try ONNXFixtures.read("ops_zoo")
        func op(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Op {
            try XCTUnwrap(model.node(named: name), name, file: file, line: line).op
        }
        XCTAssertEqual(try op("pad"), .pad(padding: [Pair(1, 1), Pair(1, 1)], layout: .channelsFirst))
        XCTAssertEqual(try op("clip"), .activation(.relu6))
        XCTAssertEqual(try op("hsig"), .activation(.hardSigmoid(slope: Double(Float(0.3)), offset: Double(Float(0.4)))))
        XCTAssertEqual(try op("lrelu"), .activation(.leakyRelu(alpha: Double(Float(0.1)))))
        XCTAssertEqual(try op("elu"), .activation(.elu(alpha: Double(Float(0.7)))))
        XCTAssertEqual(try op("tanh"), .activation(.tanh))
        XCTAssertEqual(try op("sigmoid"), .activation(.sigmoid))
        XCTAssertEqual(try op("hswish"), .activation(.hardSwish))
        XCTAssertEqual(try op("sub"), .elementwise(.subtract))
        XCTAssertEqual(try op("mul"), .elementwise(.multiply))
        XCTAssertEqual(try op("max"), .elementwise(.maximum))
        XCTAssertEqual(try op("min"), .elementwise(.minimum))
        XCTAssertEqual(try op("add"), .elementwise(.add))
        XCTAssertEqual(try op("concat"), .concat(axis: 1))
        XCTAssertEqual(try op("avgpool"), .pool(Pool(kind: .average, poolSize: [3, 3], strides: [1, 1],
                                                       padding: .explicit([Pair(1, 1), Pair(1, 1)]), layout: .channelsFirst)))
        XCTAssertEqual(try op("identity"), .identity)
        XCTAssertEqual(try op("dropout"), .identity)
        XCTAssertEqual(try op("transpose"), .permute(permutation: [1, 3, 2]))
        XCTAssertEqual(try op("reshape"), .reshape(targetShape: [-1]))
        XCTAssertEqual(try op("softmax"), .softmax(axis: -1))
        // Shape and bound initializers are not activations.
        XCTAssertEqual(model.node(named: "pad")?.inputs, ["input"])
        XCTAssertEqual(model.node(named: "clip")?.inputs, ["bn_out"])
        XCTAssertEqual(model.node(named: "reshape")?.inputs, ["transpose_out"])
    }

    func testSmallCNNPoolsAndFlatten() throws {
        let model = try ONNXFixtures.read("small_cnn")
        XCTAssertEqual(model.node(named: "pool")?.op, .pool(Pool(kind: .max, poolSize: [2, 2], strides: [2, 2], padding: .valid, layout: .channelsFirst)))
        XCTAssertEqual(model.node(named: "gap")?.op, .globalPool(GlobalPool(kind: .average, keepDims: true, layout: .channelsFirst)))
        XCTAssertEqual(model.node(named: "flatten")?.op, .flatten)
    }

    func testUnknownOpIsOpaqueAndItsBNStays() throws {
        let model = try ONNXFixtures.read("opaque_op")
        XCTAssertEqual(model.node(named: "sin")?.op, .opaque(type: "Sin"))
        XCTAssertEqual(model.node(named: "sin")?.inputs, ["conv_out"])
        let decisions = planBatchNormFolds(model)
        XCTAssertEqual(decisions.map(\.target), [nil])
    }

    func testValueInfosAreChannelsFirstWithSymbolicBatch() throws {
        let model = try ONNXFixtures.read("small_cnn")
        XCTAssertEqual(model.inputs, ["input"])
        XCTAssertEqual(model.outputs, ["fc_out"])
        XCTAssertEqual(model.values["input"], ValueInfo(name: "input", shape: [nil, 3, 8, 8], layout: .channelsFirst, dtype: .float32))
        XCTAssertEqual(model.values["conv1_out"]?.shape, [nil, 8, 8, 8])
        XCTAssertEqual(model.values["conv1_out"]?.layout, .channelsFirst)
        XCTAssertEqual(model.values["flatten_out"], ValueInfo(name: "flatten_out", shape: [nil, 8], layout: nil, dtype: .float32))
        XCTAssertEqual(model.format, .onnx)
        XCTAssertEqual(model.name, "small_cnn")
    }

    func testFloat16WeightsKeepTheirDType() throws {
        let model = try ONNXFixtures.read("float16_conv_bn")
        XCTAssertEqual(model.node(named: "conv")?.weight(.kernel)?.tensor.dtype, .float16)
        XCTAssertEqual(model.node(named: "bn")?.weight(.movingVariance)?.tensor.dtype, .float16)
        XCTAssertEqual(model.values["input"]?.dtype, .float16)
    }

    func testWeightsKnowTheirInitializers() throws {
        let conv = try XCTUnwrap(try ONNXFixtures.read("conv_bn").node(named: "conv"))
        XCTAssertEqual(conv.weights.map(\.storageKey), ["conv.weight", "conv.bias"])
        XCTAssertEqual(conv.weights.map(\.isShared), [false, false])
        XCTAssertEqual(conv.weights.map(\.isModified), [false, false])
    }

    func testTrainingBatchNormHidesItsUnreadRunningStatistics() throws {
        let bn = try XCTUnwrap(try ONNXFixtures.read("bn_training").node(named: "bn"))
        XCTAssertEqual(bn.outputs, ["bn_out"])
        XCTAssertEqual((bn.source as? ONNXNodeRecord)?.parts.first?.outputs,
                       [.value(0), .fixed("bn_running_mean"), .fixed("bn_running_var")])
        guard case .batchNorm(let attributes) = bn.op else { return XCTFail("\(bn.op)") }
        XCTAssertTrue(attributes.training)
    }

    func testConstantNodesAreReadAsConstants() throws {
        let model = try ONNXFixtures.read("constant_nodes")
        XCTAssertFalse(model.nodes.contains { $0.opName == "Constant" })
        XCTAssertEqual(model.node(named: "conv")?.weight(.kernel)?.storageKey, "w_const")
        XCTAssertEqual(model.node(named: "conv")?.weight(.kernel)?.tensor.shape, [4, 3, 3, 3])
        XCTAssertEqual(model.node(named: "clip")?.op, .activation(.relu6))
        XCTAssertEqual(model.node(named: "reshape")?.op, .reshape(targetShape: [-1]))
        XCTAssertEqual(model.node(named: "reshape")?.inputs, ["clip_out"])
    }

    func testShapesMissingFromValueInfoAreInferred() throws {
        let model = try ONNXFixtures.read("ir3_conv_bn")
        XCTAssertEqual(try ONNXModelMessage(bytes: try ONNXFixtures.modelBytes("ir3_conv_bn"), file: "").snapshot().valueInfos, [])
        XCTAssertEqual(model.values["conv_out"], ValueInfo(name: "conv_out", shape: [nil, 4, 6, 6], layout: .channelsFirst))
        XCTAssertEqual(model.values["bn_out"]?.shape, [nil, 4, 6, 6])
    }

    /// Values onnx's shape inference describes that are not values of bnconv's model, or whose shape
    /// bnconv cannot know; every other declared value must be inferred and compared.
    private static let valuesWithoutInferredShape: [String: Set<String>] = [
        "matmul_add_bn": ["mm_out"],                            // MatMul + Add read as one dense node
        "bn_training": ["bn_running_mean", "bn_running_var"],   // training-mode outputs nothing consumes
        "constant_nodes": ["w_const", "lo", "hi", "shape"],     // Constant nodes read as weights
        "opaque_op": ["sin_out", "bn_out"],                     // behind an opaque Sin
    ]

    /// bnconv's shape inference agrees with the shapes onnx's shape inference wrote into value_info and
    /// the graph outputs: every such value (but the listed ones) has an inferred shape of the same rank,
    /// and every dimension onnx knows, bnconv knows and gets the same.
    func testInferredShapesAgreeWithOnnxShapeInference() throws {
        var comparedDimensions = 0
        for name in ONNXFixtures.cases {
            let model = try ONNXFixtures.read(name)
            let inferred = ShapeInference.shapes(of: model)
            let declared = try ONNXModelMessage(bytes: try ONNXFixtures.modelBytes(name), file: name).snapshot()
            let skipped = Self.valuesWithoutInferredShape[name] ?? []
            var compared: [String] = []
            for info in declared.valueInfos + declared.outputs where !skipped.contains(info.name) {
                let dims = try XCTUnwrap(info.dims, "\(name)/\(info.name): onnx declares no shape")
                guard let mine = inferred[info.name] else {
                    XCTFail("\(name)/\(info.name): no inferred shape; onnx has \(dims)")
                    continue
                }
                let theirs = dims.map { d -> Int? in if case .value(let v) = d { return Int(v) } else { return nil } }
                XCTAssertEqual(mine.count, theirs.count, "\(name)/\(info.name): rank of \(mine) vs onnx \(theirs)")
                for (a, b) in zip(mine, theirs) {
                    guard let b else { continue }  // a symbolic dimension (the batch)
                    XCTAssertEqual(a, b, "\(name)/\(info.name): \(mine) vs onnx \(theirs)")
                    comparedDimensions += 1
                }
                compared.append(info.name)
            }
            XCTAssertFalse(compared.isEmpty, "\(name): no value compared")
            for value in skipped {
                XCTAssertTrue((declared.valueInfos + declared.outputs).contains { $0.name == value },
                              "\(name)/\(value): listed but not declared")
            }
        }
        XCTAssertGreaterThan(comparedDimensions, 100)
    }

    /// A BatchNormalization without attributes takes ONNX's defaults: epsilon 1e-5, momentum 0.9
    /// (stored as float32 in the spec, so widened from float32 here).
    func testBatchNormDefaultsWhenAttributesAreAbsent() throws {
        let message = try ONNXModelMessage(bytes: try ONNXFixtures.modelBytes("conv_bn"), file: "d.onnx")
        let proto = try message.snapshot()
        var bare = proto.nodes[1]
        bare.attributes = []
        message.apply(ONNXGraphEdit(
            nodes: [.original(index: 0, inputs: proto.nodes[0].inputs, outputs: proto.nodes[0].outputs), .new(bare)],
            initializers: proto.initializers.indices.map { .original(index: $0) },
            inputs: Array(proto.inputs.indices), outputs: proto.outputs.enumerated().map { ($0.offset, $0.element.name) },
            valueInfos: Array(proto.valueInfos.indices)))
        let bn = try XCTUnwrap(try ONNXReader.read(bytes: message.serialized(), file: "d.onnx").node(named: "bn"))
        XCTAssertEqual(bn.op, .batchNorm(BatchNorm(epsilon: Double(Float(1e-5)), momentum: Double(Float(0.9)), axis: 1)))
    }
}
