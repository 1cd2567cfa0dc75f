@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// What the GraphDef layout tests (``GraphDefLayoutFixtureTests``, ``GraphDefLayoutWriteTests``)
/// check alike: a converted graph written (or refused with its reason, leaving no file) and read
/// back, run through its layout boundary, and a round trip that gives back every weight.
enum GraphDefLayoutChecks {
    /// Writes `converted` to `out` and reads it back; when `refusal` is given, asserts instead that
    /// the write fails with an error containing it and leaves no file, and returns nil.
    static func writeOrRefuse(_ converted: Model, to out: String, refusal: String?, _ label: String,
                              file: StaticString = #filePath, line: UInt = #line) throws -> Model? {
        if let refusal {
            XCTAssertThrowsError(try Checkpoint.write(converted, to: out), label, file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(refusal), "\(label): \(error)", file: file, line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), label, file: file, line: line)
            return nil
        }
        try Checkpoint.write(converted, to: out)
        return try Checkpoint.read(out)
    }

    /// `model`'s first output for `input` given in the original layout: the input transposed into
    /// the model's layout by `boundary`, the output transposed back.
    static func run(_ model: Model, _ boundary: LayoutBoundary, input: Tensor, _ label: String,
                    file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
        let outputs = try ModelRunner(model: model).run([try boundary.inputs[0].map { try input.transposed($0) } ?? input])
        XCTAssertEqual(outputs.count, 1, label, file: file, line: line)
        let output = try XCTUnwrap(outputs.first, label, file: file, line: line)
        return try boundary.outputs[0].map { try output.transposed(LayoutBoundary.inverse($0)) } ?? output
    }

    /// The graph at `path` converted to `target`, written, converted back to `source` and written
    /// again keeps every node's weights and its input's shape.
    static func assertRoundTripKeepsWeights(_ path: String, through target: DataLayout, back source: DataLayout, in dir: URL,
                                            _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let original = try Checkpoint.read(path)
        let there = dir.appendingPathComponent("\(label)_there.pb").path
        let back = dir.appendingPathComponent("\(label)_back.pb").path
        try Checkpoint.write(try ConvertLayout(target: target).apply(to: original).model, to: there)
        try Checkpoint.write(try ConvertLayout(target: source).apply(to: try Checkpoint.read(there)).model, to: back)
        let returned = try Checkpoint.read(back)
        for node in original.nodes {
            let again = try XCTUnwrap(returned.node(named: node.name), "\(label): \(node.name)", file: file, line: line)
            XCTAssertEqual(again.weights.map(\.tensor), node.weights.map(\.tensor), "\(label): \(node.name)", file: file, line: line)
        }
        XCTAssertEqual(returned.values[returned.inputs[0]]?.shape, original.values[original.inputs[0]]?.shape, label,
                       file: file, line: line)
    }

    /// The integer values and dimensions of the Const `name` among `defs` (skips the test when it
    /// holds no tensor).
    static func constant(_ name: String, in defs: [ProtobufNodeDef]) throws -> (values: [Int64], dims: [Int]) {
        let def = try XCTUnwrap(defs.first { $0.name == GraphDefGraph.parse(name).node }, name)
        guard case .tensor(let proto)? = def.attribute("value") else { throw XCTSkip("\(name) holds no tensor") }
        let tensor = try GraphDefTensorCodec.decode(proto, file: "x.pb", place: name, limits: ReadLimits())
        return (tensor.integers(), proto.shape?.map { Int($0) } ?? [])
    }
}
