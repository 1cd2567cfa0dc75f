import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// TensorFlow ops read onto the op library (``GraphDefOpMapper``), run on the engine as read,
/// against TensorFlow's own outputs (Tests/Fixtures/graphdef_ops, written by
/// tools/fixtures/make_graphdef_op_fixtures.py).
final class GraphDefOpMapperTests: XCTestCase {
    /// Runs the fixture `name` on the engine: every output TensorFlow recorded, by value name.
    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Model {
        let folder = FixturePaths.url("graphdef_ops/\(name)")
        let model = try Checkpoint.read(folder.appendingPathComponent("graph.pb").path)
        let input = try NumPyFile.read(folder.appendingPathComponent("input.npy").path)
        let outputs = try ModelRunner(model: model).run([input])
        let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("facts.json"))) as? [String: Any])
        let declared = try XCTUnwrap(facts["outputs"] as? [[String: Any]])
        XCTAssertEqual(declared.count, model.outputs.count, name, file: file, line: line)
        for (k, output) in declared.enumerated() {
            let value = String(try XCTUnwrap(output["name"] as? String).split(separator: ":")[0])
            let expected = try NumPyFile.read(folder.appendingPathComponent("output_\(k).npy").path)
            guard let slot = model.outputs.firstIndex(of: value) else {
                XCTFail("\(name): output \(value) missing from \(model.outputs)", file: file, line: line)
                continue
            }
            if let problem = TensorOpModels.difference(outputs[slot], expected, tolerance: 1e-6) {
                XCTFail("\(name) \(output["key"] ?? k): \(problem)", file: file, line: line)
            }
        }
        return model
    }

    /// `Mean`, `Sum`, `Max`, `Min`, `Prod`, `All` and `Any` over an empty axes list (`axis=[]`, an
    /// empty `Const`) give the input back in TensorFlow, keep_dims or not; read as ONNX Reduce*
    /// they would reduce every axis without `noop_with_empty_axes`.
    func testReductionsOverAnEmptyAxesListReturnTheirInput() throws {
        let model = try check("empty_axes")
        let reductions = model.nodes.compactMap { node -> TensorOp? in
            guard case .tensor(let op) = node.op, op.type.hasPrefix("Reduce") else { return nil }
            return op
        }
        XCTAssertEqual(reductions.count, 7, "\(reductions.map(\.type))")
        for op in reductions { XCTAssertEqual(op.attributes["noop_with_empty_axes"], .int(1), op.type) }
        let input = try NumPyFile.read(FixturePaths.url("graphdef_ops/empty_axes/input.npy").path)
        let mean = try NumPyFile.read(FixturePaths.url("graphdef_ops/empty_axes/output_3.npy").path)
        XCTAssertEqual(mean.floats(), input.floats(), "TensorFlow's reduce_mean(x, axis=[]) is x")
    }

    /// Every other op fixture runs on the engine as TensorFlow does.
    func testOpFixturesRunLikeTensorFlow() throws {
        for name in ["shape_ops", "slicing", "math_ops", "dynamic_conv"] { _ = try check(name) }
    }
}
