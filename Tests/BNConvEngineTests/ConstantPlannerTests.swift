@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Runs plan the op-library nodes whose result depends on no input value once per input shapes
/// (``ConstantPlanner``): the shape subgraph fixtures (Tests/Fixtures/engine/shape_folding, written by
/// tools/fixtures/make_shape_fixtures.py with onnxruntime's and TensorFlow's outputs at batch 2 and
/// 3), in ONNX and as a frozen GraphDef, and every runnable fixture, which must give the same bits
/// with and without the plan.
final class ConstantPlannerTests: XCTestCase {
    private let chain = "engine/shape_folding/onnx_shape_chain"
    private let unfolded = RunOptions(foldsConstants: false)

    private func chainModel() throws -> Model { try Checkpoint.read(FixturePaths.url("\(chain)/model.onnx").path) }

    private func assertSameBits(_ a: [Tensor], _ b: [Tensor], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.shape, y.shape, message, file: file, line: line)
            XCTAssertEqual(x.dtype, y.dtype, message, file: file, line: line)
            XCTAssertTrue(x.bytes == y.bytes, "values differ: \(message)", file: file, line: line)
        }
    }

    func testShapeChainEvaluatesOnceWhatDependsOnNoInputValue() throws {
        let model = try chainModel()
        let facts = try fixtureJSON("\(chain)/case.json")
        let once = try XCTUnwrap(facts["evaluated_once"] as? [String])
        let x = try fixtureArray("\(chain)/x_batch2.npy")
        let runner = try ModelRunner(model: model)
        let y = try runner.run([x])
        assertClose(y[0], try fixtureArray("\(chain)/y_batch2.npy"), tolerance: 1e-5, "against onnxruntime")
        XCTAssertEqual(Set(runner.lastRunFolding.nodeNames), Set(once))
        XCTAssertEqual(runner.lastRunFolding.nodes, once.count)
        XCTAssertEqual(runner.lastRunFolding.byOp.first(where: { $0.op == "Concat" })?.nodes, 4)
        XCTAssertFalse(runner.lastRunFolding.nodeNames.contains("big_fill"), "a ConstantOfShape of 180,000 elements runs")
        // Reshape(r, target), Unsqueeze(mean) and the final Reshape know both their shapes.
        XCTAssertEqual(runner.lastRunFolding.reshapeViews, 3)

        let plain = try ModelRunner(model: model, options: unfolded)
        assertSameBits(y, try plain.run([x]), "with and without the plan")
        XCTAssertEqual(plain.lastRunFolding, .none)
        XCTAssertEqual(runner.lastRunKernels, plain.lastRunKernels - once.count)
        // The second run of the same shapes uses the same plan.
        assertSameBits(y, try runner.run([x]), "the plan reused")
        XCTAssertEqual(runner.lastRunFolding.nodes, once.count)
    }

    func testAnotherBatchIsPlannedAgainAndStaysCorrect() throws {
        let model = try chainModel()
        let runner = try ModelRunner(model: model)
        let plain = try ModelRunner(model: model, options: unfolded)
        let x2 = try fixtureArray("\(chain)/x_batch2.npy"), x3 = try fixtureArray("\(chain)/x_batch3.npy")
        let y2 = try fixtureArray("\(chain)/y_batch2.npy"), y3 = try fixtureArray("\(chain)/y_batch3.npy")
        // Batch 1: the first image of batch 2 (the constants Size and ConstantOfShape give change).
        let x1 = Tensor(shape: [1, 3, 8, 8], floats: Array(x2.floats().prefix(192)))
        for (x, reference) in [(x2, y2), (x3, y3), (x1, nil), (x2, y2), (x3, y3)] {
            let y = try runner.run([x])
            if let reference { assertClose(y[0], reference, tolerance: 1e-5, "batch \(x.shape[0]) against onnxruntime") }
            assertSameBits(y, try plain.run([x]), "batch \(x.shape[0])")
            XCTAssertEqual(y[0].shape, [x.shape[0], 4, 8, 8])
            XCTAssertEqual(runner.lastRunFolding.nodes, 16, "batch \(x.shape[0])")
        }
    }

    func testObservedRunsRunEveryNode() throws {
        let model = try chainModel()
        let runner = try ModelRunner(model: model)
        var seen = Set<String>()
        _ = try runner.run([try fixtureArray("\(chain)/x_batch2.npy")], observe: { name, _ in seen.insert(name) })
        XCTAssertEqual(runner.lastRunFolding, .none)
        XCTAssertTrue(seen.contains("target") && seen.contains("small_fill"), "every value is handed to the observer")
    }

    /// The TensorFlow form: `Reshape(c, Pack(StridedSlice(Shape(c)), ...))`, `Fill`, `Size` and
    /// `Range` of shapes, frozen from a tf.function; its large `Fill` runs.
    func testGraphDefShapeArithmeticIsEvaluatedOnce() throws {
        let folder = "engine/shape_folding/graphdef_shape_chain"
        let model = try Checkpoint.read(FixturePaths.url("\(folder)/graph.pb").path)
        let runner = try ModelRunner(model: model)
        let plain = try ModelRunner(model: model, options: unfolded)
        for batch in [2, 3] {
            let x = try fixtureArray("\(folder)/x_batch\(batch).npy")
            let y = try runner.run([x])
            assertClose(y[0], try fixtureArray("\(folder)/y_batch\(batch).npy"), tolerance: 1e-5, "batch \(batch) against TensorFlow")
            assertSameBits(y, try plain.run([x]), "batch \(batch)")
            let ops = Set(runner.lastRunFolding.byOp.map(\.op))
            XCTAssertTrue(ops.isSuperset(of: ["TF.Shape", "TF.StridedSlice", "TF.Pack", "TF.Fill", "TF.Size", "Range", "Identity"]),
                          "\(runner.lastRunFolding.byOp)")
            XCTAssertEqual(runner.lastRunFolding.byOp.first { $0.op == "TF.Fill" }?.nodes, 1, "the small Fill only")
            XCTAssertFalse(runner.lastRunFolding.nodeNames.contains("big_fill"))
            XCTAssertGreaterThanOrEqual(runner.lastRunFolding.reshapeViews, 2, "Reshape(c, Pack(...)) and the ExpandDims")
            XCTAssertEqual(runner.lastRunKernels, plain.lastRunKernels - runner.lastRunFolding.nodes)
        }
    }

    /// Every runnable fixture gives the same bits with and without the plan, and every shape
    /// planning inferred is the shape the run gives.
    func testEveryFixtureRunsTheSameBitsAndThePlannedShapes() throws {
        var ran = 0, folded = 0, checkedShapes = 0
        var mismatches: [String] = []
        for (name, model, inputs) in try Self.runnableFixtures() {
            // A model the engine cannot run (an op outside the library) fails the same way either way.
            guard let runner = try? ModelRunner(model: model) else { continue }
            let plain = try ModelRunner(model: model, options: unfolded)
            let expected: [Tensor]
            do { expected = try plain.run(inputs) } catch { continue }
            assertSameBits(try runner.run(inputs), expected, name)
            folded += runner.lastRunFolding.nodes
            ran += 1
            var shapes: [String: [Int]] = [:]
            _ = try plain.run(inputs, observe: { value, tensor in shapes[value] = tensor.shape })
            let outcome = ConstantPlanner.plan(steps: runner.steps, model: model, inputShapes: inputs.map(\.shape))
            for (value, planned) in outcome.shapes {
                guard let actual = shapes[value] else { continue }
                checkedShapes += 1
                if actual != planned { mismatches.append("\(name) '\(value)': planned \(planned), ran \(actual)") }
            }
        }
        XCTAssertEqual(mismatches, [])
        print("constant planning: \(ran) fixtures, \(folded) nodes evaluated once, \(checkedShapes) planned shapes checked")
        XCTAssertGreaterThan(ran, 150)
        XCTAssertGreaterThan(folded, 50)
        XCTAssertGreaterThan(checkedShapes, 300)
    }

    /// The committed fixtures with inputs: ONNX models, onnx node tests, TensorFlow graphs, shape subgraphs.
    static func runnableFixtures() throws -> [(String, Model, [Tensor])] {
        var out: [(String, Model, [Tensor])] = []
        for name in ONNXFixtures.cases {
            guard let model = try? ONNXFixtures.read(name) else { continue }
            out.append(("onnx/\(name)", model, [try fixtureArray("onnx/\(name)/input.npy")]))
        }
        let nodeRoot = FixturePaths.url("onnx_node")
        for name in try FileManager.default.contentsOfDirectory(atPath: nodeRoot.path).filter({ $0.hasPrefix("test_") }).sorted() {
            let dir = nodeRoot.appendingPathComponent(name)
            guard let model = try? ONNXReader.read(dir.appendingPathComponent("model.onnx").path) else { continue }
            var inputs: [Tensor] = []
            while FileManager.default.fileExists(atPath: dir.appendingPathComponent("input_\(inputs.count).npy").path) {
                inputs.append(try NumPyFile.read(dir.appendingPathComponent("input_\(inputs.count).npy").path))
            }
            out.append(("onnx_node/\(name)", model, inputs))
        }
        for name in try TensorFlowFixtures.cases() {
            out.append(("tensorflow/\(name)", try Checkpoint.read(TensorFlowFixtures.graph(name)),
                        [try fixtureArray("tensorflow/\(name)/input.npy")]))
        }
        for (name, file) in [("onnx_shape_chain", "model.onnx"), ("graphdef_shape_chain", "graph.pb")] {
            let folder = "engine/shape_folding/\(name)"
            out.append((folder, try Checkpoint.read(FixturePaths.url("\(folder)/\(file)").path), [try fixtureArray("\(folder)/x_batch3.npy")]))
        }
        return out
    }
}
