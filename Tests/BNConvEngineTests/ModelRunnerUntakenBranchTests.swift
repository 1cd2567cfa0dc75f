@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Nodes no model output depends on (the untaken branch of a constant `tf.cond`) are neither
/// prepared nor run; a computed predicate's Switch, which the outputs need, is refused naming the
/// Switch and saying its predicate is not constant.
final class ModelRunnerUntakenBranchTests: XCTestCase {
    /// `x -> relu -> y`, beside `x -> branch (an op the engine cannot run) -> softmax`, read by no output.
    private func model(outputs: [String]) -> Model {
        let nodes = [
            Node(name: "input", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "relu", op: .activation(.relu()), inputs: ["x"], outputs: ["y"]),
            Node(name: "branch", op: .opaque(type: "Unknown"), inputs: ["x"], outputs: ["u"]),
            Node(name: "soft", op: .softmax(axis: -1), inputs: ["u"], outputs: ["s"]),
        ]
        return Model(name: "m", format: .graphDef, inputs: ["x"], outputs: outputs, nodes: nodes,
                     values: ["x": ValueInfo(name: "x", shape: [nil, 3], layout: nil)])
    }

    func testNodesNoOutputNeedsNeverRun() throws {
        let x = Tensor(shape: [2, 3], floats: [-1, 2, -3, 4, -5, 6])
        let runner = try ModelRunner(model: model(outputs: ["y"]))
        var seen = [String]()
        let y = try runner.run([x], observe: { value, _ in seen.append(value) })
        XCTAssertEqual(y.first?.floats(), [0, 2, 0, 4, 0, 6])
        XCTAssertEqual(seen, ["y"])
        XCTAssertEqual(runner.steps.map(\.node.name), ["relu"])
        // Needed, the same node is refused.
        XCTAssertThrowsError(try ModelRunner(model: model(outputs: ["y", "s"]))) { error in
            XCTAssertEqual(error as? EngineError, .notSupported(kind: "TensorFlow op", op: "Unknown", node: "branch"))
        }
    }

    /// TensorFlow's `cond_computed_pred` graph: the first Switch the outputs need is refused, its
    /// message naming it and saying its predicate is not constant.
    func testAComputedPredicateIsRefusedNamingTheSwitch() throws {
        let facts = try TensorFlowCondFixtures.facts("cond_computed_pred")
        let model = try Checkpoint.read(TensorFlowFixtures.graph("cond_computed_pred"))
        XCTAssertThrowsError(try ModelRunner(model: model)) { error in
            let text = "\(error)"
            guard case .notSupported(_, _, let node)? = error as? EngineError else { return XCTFail(text) }
            XCTAssertTrue(facts.switches.contains { $0.name == node }, text)
            XCTAssertTrue(text.contains("predicate \(facts.switches[0].predicate) is not constant"), text)
            XCTAssertTrue(text.contains("(node '\(node)')"), text)
        }
    }
}
