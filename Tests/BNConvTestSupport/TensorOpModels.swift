import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats

/// Small op-library models for the ONNX export tests (formats and pipeline): a model of inputs, Consts and op-library
/// nodes; its export read back; both run on the engine and compared.
enum TensorOpModels {
    /// A `Const` node (an op-library Identity of its weight) giving `tensor` as `name`.
    static func constant(_ name: String, _ tensor: Tensor) -> Node {
        let role = WeightRole(rawValue: "value")
        return Node(name: name, op: .tensor(TensorOp(type: "Identity", opset: 14, arguments: [.weight(role)])), inputs: [], outputs: [name],
                    weights: [Weight(role: role, tensor: tensor, storageKey: name)])
    }

    /// An int32 `Const` (TensorFlow's axes, begin/end, shapes).
    static func int32s(_ name: String, _ values: [Int], shape: [Int]? = nil) -> Node {
        constant(name, Tensor(shape: shape ?? [values.count], doubles: values.map(Double.init), dtype: .int32))
    }

    /// An op-library node of `type` reading `inputs` in order.
    static func op(_ name: String, _ type: String, _ inputs: [String], opset: Int = 18, outputs: [String]? = nil,
                   _ attributes: [String: OpAttribute] = [:]) -> Node {
        Node(name: name, op: .tensor(TensorOp(type: type, opset: opset, attributes: attributes, arguments: inputs.indices.map { .value($0) })),
             inputs: inputs, outputs: outputs ?? [name])
    }

    /// A model over `inputs` (name, shape, dtype) and `nodes`, writing `outputs`.
    static func model(inputs: [(String, [Int?]?, DType)], _ nodes: [Node], outputs: [String]) -> Model {
        var values: [String: ValueInfo] = [:]
        for (name, shape, dtype) in inputs { values[name] = ValueInfo(name: name, shape: shape, dtype: dtype) }
        let inputNodes = inputs.map { Node(name: $0.0, op: .input, inputs: [], outputs: [$0.0]) }
        return Model(name: "m", format: .graphDef, inputs: inputs.map(\.0), outputs: outputs, nodes: inputNodes + nodes, values: values)
    }

    /// `model` exported to ONNX (it has no layers the layout pass would move).
    static func export(_ model: Model) throws -> ONNXGraphExporter.Graph {
        try ONNXGraphExporter.export(channelsFirst: model, outputNames: model.outputs, graphName: "m", file: "m.onnx")
    }

    /// Seeded values of `shape` in [-2, 2) as float32, with a few exact zeros and halves.
    static func values(_ shape: [Int], seed: UInt64 = 7) -> Tensor {
        var state = seed
        let count = shape.reduce(1, *)
        let v = (0..<count).map { i -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            if i % 11 == 3 { return 0 }
            return Float(Int(state >> 40) % 4000) / 1000 - 2
        }
        return Tensor(shape: shape, floats: v)
    }

    /// Exports `model`, reads the ONNX back, runs both on the engine with `inputs` and requires the
    /// same outputs (integers and bools exactly, floats within 1e-6 x max(1, max|ref|)); returns the export.
    @discardableResult
    static func assertExportRunsAlike(_ model: Model, _ inputs: [Tensor], _ label: String,
                                      file: StaticString = #filePath, line: UInt = #line) throws -> ONNXGraphExporter.Graph {
        let graph = try export(model)
        let read = try ONNXReader.read(bytes: graph.bytes, file: "\(label).onnx")
        let expected = try ModelRunner(model: model).run(inputs)
        let got = try ModelRunner(model: read).run(inputs)
        XCTAssertEqual(got.count, expected.count, label, file: file, line: line)
        for (k, (g, e)) in zip(got, expected).enumerated() {
            if let problem = difference(g, e, tolerance: 1e-6) {
                XCTFail("\(label) output \(k): \(problem)", file: file, line: line)
            }
        }
        return graph
    }

    /// Why `got` is not `expected` (shape, dtype, values beyond `tolerance` x max(1, max|expected|)), or nil.
    static func difference(_ got: Tensor, _ expected: Tensor, tolerance: Double) -> String? {
        guard got.shape == expected.shape else { return "shape \(got.shape), expected \(expected.shape)" }
        guard got.dtype == expected.dtype else { return "dtype \(got.dtype), expected \(expected.dtype)" }
        let a = got.doubles(), b = expected.doubles()
        if !expected.dtype.isFloatingPoint { return a == b ? nil : "values \(a.prefix(8)) differ from \(b.prefix(8))" }
        let scale = max(1, b.filter(\.isFinite).map(abs).max() ?? 0)
        for (i, (x, y)) in zip(a, b).enumerated() where !(x == y || (x.isNaN && y.isNaN) || abs(x - y) <= tolerance * scale) {
            return "element \(i): \(x) vs \(y)"
        }
        return nil
    }
}
