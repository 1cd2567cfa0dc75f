@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvPipeline
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Every Keras fixture the exporter supports, exported to ONNX, read back by ``ONNXReader`` and run
/// by the engine, must reproduce Keras's recorded prediction (fed the NCHW-transposed input, or the
/// NHWC input with `inputsAsNHWC`).
final class ONNXExporterTests: XCTestCase {
    /// Files exported per case, with the reference each must match.
    private let files: [(file: String, reference: String)] = [("keras2.h5", "output_keras2"), ("keras3.keras", "output_keras3")]
    /// Cases whose Keras computes in half precision (see ModelRunnerKerasFixturesTests).
    private let halfPrecisionTolerance: [String: Double] = ["mixed_dtypes": 5e-3, "mixed_bfloat16": 2e-2]

    private func cases() throws -> [String] {
        let root = FixturePaths.url("keras")
        return try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
            .filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/input.npy").path) }
            .filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/output_keras2.npy").path) }
    }

    /// Runs the exported bytes on `input` laid out as the export's boundary says; outputs in the source layout.
    private func runExport(_ export: ONNXExporter.Export, _ input: Tensor) throws -> [Tensor] {
        let model = try ONNXReader.read(bytes: export.bytes, file: "<export>")
        let fed = try export.boundary.inputs[0].map { try input.transposed($0) } ?? input
        let outputs = try ModelRunner(model: model).run([fed])
        return try zip(outputs, export.boundary.outputs).map { out, p in
            try p.map { try out.transposed(LayoutBoundary.inverse($0)) } ?? out
        }
    }

    private func check(inputsAsNHWC: Bool, fold: Bool) throws {
        var exported = 0, refused: [String] = []
        var worst = (error: 0.0, where: "")
        for name in try cases() {
            let folder = FixturePaths.url("keras/\(name)")
            let input = try NumPyFile.read(folder.appendingPathComponent("input.npy").path)
            for (file, stem) in files {
                let path = folder.appendingPathComponent(file).path
                let refPath = folder.appendingPathComponent("\(stem).npy").path
                guard FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: refPath) else { continue }
                var model = try Checkpoint.read(path)
                if fold { model = try FoldBatchNorm().apply(to: model).model }
                let export: ONNXExporter.Export
                do {
                    export = try ONNXExporter.export(model, inputsAsNHWC: inputsAsNHWC, file: "\(name).onnx")
                } catch let error as CheckpointError where error.kind == .unsupported {
                    refused.append("\(name)/\(file): \(error)")
                    continue
                }
                let outputs = try runExport(export, input)
                let expected = try NumPyFile.read(refPath)
                XCTAssertEqual(outputs.count, 1, "\(name)/\(file)")
                guard let output = outputs.first else { continue }
                assertClose(output, expected, tolerance: halfPrecisionTolerance[name] ?? 1e-5, "\(name)/\(file) exported")
                if halfPrecisionTolerance[name] == nil, output.shape == expected.shape {
                    let e = relativeError(output.floats(), expected.floats())
                    if e > worst.error { worst = (e, "\(name)/\(file)") }
                }
                if inputsAsNHWC { XCTAssertTrue(export.boundary.isIdentity, "\(name)/\(file) boundary") }
                exported += 1
            }
        }
        print("ONNX export (inputsAsNHWC \(inputsAsNHWC), fold \(fold)): \(exported) files exported and matched Keras; "
              + "worst \(worst.error) x max|ref| in \(worst.where); refused: \(refused)")
        XCTAssertGreaterThan(exported, 30)
    }

    func testEveryKerasFixtureExportsAndMatchesKeras() throws {
        try check(inputsAsNHWC: false, fold: false)
    }

    func testFoldedExportsMatchKeras() throws {
        try check(inputsAsNHWC: false, fold: true)
    }

    func testInputsAsNHWCExportsMatchKeras() throws {
        try check(inputsAsNHWC: true, fold: false)
    }

    /// Every GraphDef fixture the exporter supports matches TensorFlow's recorded output; the
    /// NCHW graph's undeclared input layout is taken from its convolutions (no boundary transpose).
    func testGraphDefFixturesExportAndMatchTensorFlow() throws {
        let root = FixturePaths.url("tensorflow")
        var exported = 0, refused: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            let folder = root.appendingPathComponent(name)
            let graph = folder.appendingPathComponent("graph.pb").path
            let refPath = folder.appendingPathComponent("output.npy").path
            guard FileManager.default.fileExists(atPath: graph), FileManager.default.fileExists(atPath: refPath) else { continue }
            let model = try Checkpoint.read(graph)
            let export: ONNXExporter.Export
            do {
                export = try ONNXExporter.export(model, file: "\(name).onnx")
            } catch let error as CheckpointError where error.kind == .unsupported {
                refused.append("\(name): \(error.problem)")
                continue
            }
            let input = try NumPyFile.read(folder.appendingPathComponent("input.npy").path)
            guard let output = try runExport(export, input).first else { XCTFail(name); continue }
            let half = name.contains("float16") || name.contains("mixed")
            assertClose(output, try NumPyFile.read(refPath), tolerance: half ? 5e-3 : 1e-5, "tensorflow/\(name) exported")
            if name == "nchw" { XCTAssertTrue(export.boundary.isIdentity, "\(export.boundary)") }
            exported += 1
        }
        print("GraphDef fixtures exported to ONNX: \(exported); refused: \(refused)")
        XCTAssertGreaterThan(exported, 15)
    }

    func testConvBNFlattenDenseHasNoTransposeAndKeepsBatchNorm() throws {
        let model = try Checkpoint.read(FixturePaths.url("keras/conv_bn_flatten_dense/keras2.h5").path)
        let export = try ONNXExporter.export(model, file: "x.onnx")
        XCTAssertNil(export.opCounts["Transpose"], "\(export.opCounts)")
        XCTAssertEqual(export.opCounts["Gemm"], 1)
        XCTAssertEqual(export.opCounts["BatchNormalization"], 1)
        XCTAssertEqual(export.opset, 17)
        let folded = try ONNXExporter.export(try FoldBatchNorm().apply(to: model).model, file: "x.onnx")
        XCTAssertNil(folded.opCounts["BatchNormalization"], "\(folded.opCounts)")
        XCTAssertNil(folded.opCounts["Transpose"])
    }

    func testInputsAsNHWCInsertsOneTransposeAtTheInput() throws {
        let model = try Checkpoint.read(FixturePaths.url("keras/conv_bn_flatten_dense/keras2.h5").path)
        let export = try ONNXExporter.export(model, inputsAsNHWC: true, file: "x.onnx")
        XCTAssertEqual(export.opCounts["Transpose"], 1, "\(export.opCounts)")
        let read = try ONNXReader.read(bytes: export.bytes, file: "x.onnx")
        XCTAssertEqual(read.values[read.inputs[0]]?.shape?.dropFirst().map { $0 }, model.values[model.inputs[0]]?.shape?.dropFirst().map { $0 })
    }

    /// activations_zoo minus its thresholded ReLU (no ONNX op): every other activation (gelu at
    /// opset 20, swish as Sigmoid * x, hard_sigmoid, ...) exported, read back and verified on the engine.
    func testActivationZooExportsAtOpset20AndVerifies() throws {
        var model = try Checkpoint.read(FixturePaths.url("keras/activations_zoo/keras3.keras").path)
        let index = try XCTUnwrap(model.nodeIndex(named: "relu_custom"))
        model.nodes[index].op = .activation(.relu())
        let export = try ONNXExporter.export(model, file: "zoo.onnx")
        XCTAssertEqual(export.opset, 20)
        XCTAssertEqual(export.opCounts["Gelu"], 1, "\(export.opCounts)")
        let candidate = try ONNXReader.read(bytes: export.bytes, file: "zoo.onnx")
        let options = Verifier.Options(randomRuns: 2, inputPermutations: export.boundary.inputs,
                                       outputPermutations: export.boundary.outputs)
        let report = try Verifier(options: options).compare(reference: model, candidate: candidate)
        XCTAssertTrue(report.passed, "worst \(String(describing: report.worst))")
    }

    func testUnsupportedLayerIsNamed() throws {
        let model = Model(name: "m", format: .onnx, inputs: ["x"], outputs: ["y"], nodes: [
            Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "strange", op: .opaque(type: "Strange"), inputs: ["x"], outputs: ["y"]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, 4])])
        XCTAssertThrowsError(try ONNXExporter.export(model, file: "out.onnx")) { error in
            XCTAssertTrue("\(error)".contains("strange"), "\(error)")
            XCTAssertTrue("\(error)".contains("Strange"), "\(error)")
        }
    }
}

/// Transposed convolutions with Keras semantics (SAME/VALID, strides above and below the kernel
/// size, output_padding) export to pads + output_padding that the engine runs back to the same numbers.
final class ONNXExportTransposedPaddingTests: XCTestCase {
    private func model(kernel: Int, stride: Int, padding: Padding, outputPadding: Int?) -> Model {
        var values = UInt64(kernel * 31 + stride)
        let count = kernel * kernel * 2 * 3
        let w = (0..<count).map { _ -> Float in
            values = values &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(values >> 40) % 1000) / 1000 - 0.5
        }
        let c = Convolution(rank: 2, filters: 2, kernelSize: [kernel, kernel], strides: [stride, stride], dilations: [1, 1],
                            padding: padding, groups: 1, outputPadding: outputPadding.map { [$0, $0] }, useBias: false)
        return Model(name: "t", format: .keras2H5, inputs: ["x"], outputs: ["y"], nodes: [
            Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "deconv", op: .convTranspose(c), inputs: ["x"], outputs: ["y"],
                 weights: [Weight(role: .kernel, tensor: Tensor(shape: [kernel, kernel, 2, 3], floats: w), layout: .hwoi, storageKey: "k")]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, 5, 4, 3], layout: .channelsLast)])
    }

    func testEveryPaddingModeRunsBackToTheSameNumbers() throws {
        let cases: [(Int, Int, Padding, Int?)] = [
            (3, 2, .same, nil), (2, 2, .same, nil), (1, 2, .same, nil), (2, 3, .same, nil), (4, 2, .same, nil),
            (3, 2, .valid, nil), (1, 3, .valid, nil), (3, 2, .same, 1), (3, 2, .valid, 1), (5, 3, .same, 2),
        ]
        for (k, s, padding, op) in cases {
            let source = model(kernel: k, stride: s, padding: padding, outputPadding: op)
            let export = try ONNXExporter.export(source, file: "t.onnx")
            let candidate = try ONNXReader.read(bytes: export.bytes, file: "t.onnx")
            let report = try Verifier(options: .init(inputPermutations: export.boundary.inputs, outputPermutations: export.boundary.outputs))
                .compare(reference: source, candidate: candidate)
            XCTAssertTrue(report.passed, "k \(k) s \(s) \(padding) output_padding \(String(describing: op)): \(String(describing: report.worst))")
        }
    }
}

/// A model whose spatial size is unknown exports SAME padding as `auto_pad = SAME_UPPER`.
final class ONNXExportUnknownSizeTests: XCTestCase {
    func testSamePaddingWithUnknownSpatialSizeUsesSameUpper() throws {
        let kernel = Tensor(shape: [3, 3, 3, 4], floats: (0..<108).map { Float(($0 * 37) % 17) / 17 - 0.5 })
        let conv = Convolution(rank: 2, filters: 4, kernelSize: [3, 3], strides: [2, 2], dilations: [1, 1], padding: .same,
                               groups: 1, useBias: false)
        let model = Model(name: "u", format: .keras2H5, inputs: ["x"], outputs: ["y"], nodes: [
            Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "conv", op: .conv(conv), inputs: ["x"], outputs: ["c"],
                 weights: [Weight(role: .kernel, tensor: kernel, layout: .hwio, storageKey: "k")]),
            Node(name: "pool", op: .pool(Pool(kind: .average, poolSize: [2, 2], strides: [2, 2], padding: .same)), inputs: ["c"], outputs: ["y"]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, nil, nil, 3], layout: .channelsLast)])
        let export = try ONNXExporter.export(model, file: "u.onnx")
        let candidate = try ONNXReader.read(bytes: export.bytes, file: "u.onnx")
        let x = Tensor(shape: [1, 7, 5, 3], floats: (0..<105).map { Float(($0 * 29) % 23) / 23 - 0.5 })
        let report = try Verifier(options: .init(randomRuns: 0, inputs: [[x]], inputPermutations: export.boundary.inputs,
                                                 outputPermutations: export.boundary.outputs))
            .compare(reference: model, candidate: candidate)
        XCTAssertTrue(report.passed, "\(String(describing: report.worst))")
        XCTAssertEqual(report.outputs.first?.shape, [1, 2, 2, 4])
    }
}

/// The exported graph's inputs and outputs carry the source model's names, with or without boundary transposes.
final class ONNXExportInterfaceTests: XCTestCase {
    func testInputAndOutputNamesAreTheSource() throws {
        let model = try Checkpoint.read(FixturePaths.url("keras/conv2d_bias_bn/keras2.h5").path)
        for nhwc in [false, true] {
            let export = try ONNXExporter.export(model, inputsAsNHWC: nhwc, file: "n.onnx")
            let read = try ONNXReader.read(bytes: export.bytes, file: "n.onnx")
            XCTAssertEqual(read.inputs, model.inputs, "nhwc \(nhwc)")
            XCTAssertEqual(read.outputs, model.outputs, "nhwc \(nhwc)")
            let outputShape = try XCTUnwrap(read.values[read.outputs[0]]?.shape)
            let sourceShape = try XCTUnwrap(ShapeInference.shapes(of: model)[model.outputs[0]])
            XCTAssertEqual(Array(outputShape.dropFirst()), nhwc ? Array(sourceShape.dropFirst())
                                                                : [sourceShape[3], sourceShape[1], sourceShape[2]])
        }
    }
}

/// The exporter names BatchNormalization initializers as ``BatchNormNaming`` documents for onnx.
final class ONNXExportNamingTests: XCTestCase {
    func testBatchNormInitializersFollowTheOnnxNaming() throws {
        let model = try Checkpoint.read(FixturePaths.url("keras/mini_resnet/keras2.h5").path)
        let read = try ONNXReader.read(bytes: try ONNXExporter.export(model, file: "n.onnx").bytes, file: "n.onnx")
        let naming = BatchNormNaming(model: model, convention: .onnx)
        XCTAssertEqual(naming.entries.count, read.batchNormIndices.count)
        for entry in naming.entries {
            let node = try XCTUnwrap(read.node(named: entry.layer), entry.layer)
            XCTAssertEqual(node.weights.map(\.storageKey), entry.parameters.map(\.name), entry.layer)
            XCTAssertEqual(node.weights.map(\.tensor.shape), entry.parameters.map(\.shape), entry.layer)
        }
    }
}
