@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

/// A ModelProto built from Swift values packs, unpacks with protobuf-c and reads back field for field.
final class ONNXModelBuilderTests: XCTestCase {
    func testBuiltModelReadsBackFieldForField() throws {
        let weight = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let model = ONNXProto.Model(
            irVersion: 8, opsetImports: [ONNXProto.OpsetImport(domain: "", version: 20)], producerName: "bnconv",
            graphName: "g",
            nodes: [
                ONNXProto.Node(name: "mm", opType: "MatMul", domain: "", inputs: ["x", "w"], outputs: ["h"], attributes: []),
                ONNXProto.Node(name: "gelu", opType: "Gelu", domain: "", inputs: ["h"], outputs: ["y"], attributes: [
                    ONNXExportGraph.string("approximate", "tanh"), ONNXExportGraph.float("f", 0.5),
                    ONNXExportGraph.int("i", -3), ONNXExportGraph.ints("is", [1, 2]),
                ]),
            ],
            initializers: [ONNXProto.Tensor(name: "w", dataType: ONNXProto.DataType.float, dims: [2, 3], rawData: weight.bytes)],
            inputs: [ONNXProto.ValueInfo(name: "x", elemType: ONNXProto.DataType.float, dims: [.param("N"), .value(2)])],
            outputs: [ONNXProto.ValueInfo(name: "y", elemType: ONNXProto.DataType.float, dims: [.param("N"), .unknown])],
            valueInfos: [])
        let bytes = try ONNXModelBuilder.build(model, file: "built.onnx").serialized()
        let back = try ONNXModelMessage(bytes: bytes, file: "built.onnx").snapshot()
        XCTAssertEqual(back, model)
        XCTAssertEqual(try ONNXTensorCodec.decode(back.initializers[0], file: "built.onnx", limits: ReadLimits()), weight)
    }
}
