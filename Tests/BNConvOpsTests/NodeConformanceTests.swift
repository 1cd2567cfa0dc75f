import XCTest
@testable import BNConvTestSupport
import BNConv

/// The committed subset of the onnx backend node tests (Tests/Fixtures/onnx_node, made by
/// tools/conformance/make_node_fixtures.py): each model runs on the engine from its recorded
/// inputs and must give its recorded outputs (1e-5 x max(1, max|ref|); float16 1e-3; integer and
/// bool outputs exactly). The whole suite runs in `make interop`.
final class NodeConformanceTests: XCTestCase {
    /// Every fixture passes; there are fixtures for at least 60 op types.
    func testEveryCommittedNodeTestGivesTheRecordedOutputs() throws {
        let root = FixturePaths.url("onnx_node")
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix("test_") }.sorted()
        XCTAssertGreaterThan(names.count, 100, "the committed node tests are missing")
        var failures: [String] = []
        for name in names {
            let dir = root.appendingPathComponent(name)
            do {
                let model = try ONNXReader.read(dir.appendingPathComponent("model.onnx").path)
                var inputs: [Tensor] = []
                while FileManager.default.fileExists(atPath: dir.appendingPathComponent("input_\(inputs.count).npy").path) {
                    inputs.append(try NumPyFile.read(dir.appendingPathComponent("input_\(inputs.count).npy").path))
                }
                let outputs = try ModelRunner(model: model).run(inputs)
                for (k, got) in outputs.enumerated() {
                    let expected = try NumPyFile.read(dir.appendingPathComponent("output_\(k).npy").path)
                    if let problem = Self.difference(got, expected) { failures.append("\(name) output \(k): \(problem)") }
                }
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        XCTAssertEqual(failures, [], "\(failures.count) of \(names.count) node tests fail")
    }

    /// Why `got` is not `expected`, or nil.
    static func difference(_ got: Tensor, _ expected: Tensor) -> String? {
        guard got.shape == expected.shape else { return "shape \(got.shape), expected \(expected.shape)" }
        guard got.dtype == expected.dtype else { return "dtype \(got.dtype), expected \(expected.dtype)" }
        let a = got.doubles(), b = expected.doubles()
        if !expected.dtype.isFloatingPoint { return a == b ? nil : "values differ" }
        let finite = b.filter(\.isFinite).map(abs)
        let scale = max(1, finite.max() ?? 0)
        let tolerance = (expected.dtype == .float16 ? 1e-3 : expected.dtype == .float64 ? 1e-7 : 1e-5) * scale
        for (x, y) in zip(a, b) {
            if y.isNaN { if !x.isNaN { return "\(x) where the reference has NaN" } else { continue } }
            if x == y { continue }
            if !(abs(x - y) <= tolerance) { return "\(x) vs \(y) (tolerance \(tolerance))" }
        }
        return nil
    }
}
