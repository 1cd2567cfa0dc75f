import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// The liveness of constant-predicate `tf.cond` control flow (``ConstantConditions``) against what
/// TensorFlow did when it computed the fixtures' outputs (cond.json: the NodeDefs its executor ran
/// and those it did not, traced with grappler off), and the two users of the one analysis (the
/// reader of a `.pb` and the freezer's rewrite) against TensorFlow's outputs.
final class ConstantConditionsTests: XCTestCase {
    private func graph(_ name: String) throws -> GraphDefGraph {
        let file = try ProtobufGraphDefFile(bytes: try TensorFlowFixtures.bytes(name), file: name)
        return try GraphDefGraph(nodes: try file.nodeDefs(), file: name, limits: ReadLimits())
    }

    /// The dead nodes are exactly the NodeDefs TensorFlow did not run; every Switch of a constant
    /// cond is resolved; a computed predicate resolves nothing.
    func testDeadNodesAreWhatTensorFlowDidNotRun() throws {
        for name in TensorFlowCondFixtures.constantCases {
            let facts = try TensorFlowCondFixtures.facts(name)
            let conditions = try graph(name).conditions
            XCTAssertFalse(facts.notComputed.isEmpty, name)
            XCTAssertEqual(conditions.deadNodes, facts.notComputed, name)
            XCTAssertEqual(Set(conditions.switches.keys), Set(facts.switches.map(\.name)), name)
            XCTAssertEqual(Set(conditions.merges.keys), Set(facts.merges.map(\.name)), name)
        }
        let computed = try graph("cond_computed_pred").conditions
        XCTAssertTrue(computed.switches.isEmpty)
        XCTAssertTrue(computed.merges.isEmpty)
        XCTAssertTrue(computed.deadNodes.isEmpty)
    }

    /// Each resolved Switch's taken output is the one whose readers TensorFlow ran (a Merge runs
    /// either way), and its predicate says where the constant came from: the `training`
    /// PlaceholderWithDefault's default, or the Const itself.
    func testTakenOutputsAreTheOnesTensorFlowRan() throws {
        var checked = 0
        for name in TensorFlowCondFixtures.constantCases {
            let facts = try TensorFlowCondFixtures.facts(name)
            let graph = try graph(name)
            let ran = Set(facts.ran)
            for (switchName, s) in graph.conditions.switches {
                for k in 0...1 {
                    let value = GraphDefGraph.valueName(switchName, k)
                    for reader in graph.readers(of: value) where !["Merge", "RefMerge"].contains(graph.nodes[reader].op) {
                        XCTAssertEqual(ran.contains(graph.nodes[reader].name), k == s.live, "\(name): \(graph.nodes[reader].name) reads \(value)")
                        checked += 1
                    }
                }
                XCTAssertEqual(s.predicate.placeholder, name == "cond_training_flag" ? "training" : nil, "\(name): \(switchName)")
            }
        }
        XCTAssertGreaterThan(checked, 30)
    }

    /// Freezing the graph again (the freezer's rewrite drops the untaken branches) and reading it
    /// as it is (the model follows the taken branch, the file keeps both) give TensorFlow's output.
    func testTheFreezerAndTheReaderAgreeWithTensorFlow() throws {
        for name in TensorFlowCondFixtures.constantCases {
            let facts = try TensorFlowCondFixtures.facts(name)
            let input = try NumPyFile.read(TensorFlowCondFixtures.path(name, "input.npy"))
            let expected = try NumPyFile.read(TensorFlowCondFixtures.path(name, "output.npy"))
            var freezer = try GraphFreezer(graph: try ProtobufGraphDefFile(bytes: try TensorFlowFixtures.bytes(name), file: name), file: name)
            let frozen = try freezer.freeze(outputs: [GraphFreezer.Output(tensor: TensorReference(node: facts.outputNode), name: nil)]) { node, _, _ in
                throw FreezeError("the graph has no variable, yet '\(node)' was asked for")
            }
            XCTAssertEqual(frozen.resolvedSwitches, facts.switches.count, name)
            let refrozen = try GraphDefReader.read(bytes: frozen.bytes, file: name)
            XCTAssertFalse(refrozen.nodes.contains { ($0.source as? GraphDefNodeRecord)?.nodeDefs.contains { $0.op == "Switch" || $0.op == "Merge" } == true }, name)
            let asIs = try GraphDefReader.read(TensorFlowFixtures.graph(name))
            for (stage, model) in [("frozen again", refrozen), ("read as it is", asIs)] {
                let output = try XCTUnwrap(try ModelRunner(model: model).run([input]).first, "\(name) \(stage)")
                assertClose(output, expected, tolerance: 1e-5, "\(name) \(stage)")
            }
        }
    }
}
