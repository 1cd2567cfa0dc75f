import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport

/// A `.pb` holding `tf.cond` control flow (Switch / Merge), read as it is: the model follows the
/// taken branch of each constant predicate while every NodeDef stays the node's record, so the
/// folded file keeps the Switches, Merges and untaken branches byte for byte.
final class GraphDefCondTests: XCTestCase {
    private func read(_ name: String) throws -> Model { try GraphDefReader.read(TensorFlowFixtures.graph(name)) }

    private func record(_ node: Node) -> GraphDefNodeRecord? { node.source as? GraphDefNodeRecord }

    /// The nodes the outputs need are the NodeDefs TensorFlow ran: no node of an untaken branch
    /// (nor the untaken Switch outputs) is needed; each taken Switch output and each Merge passes
    /// on the tensor TensorFlow forwarded.
    func testTheModelFollowsTheTakenBranch() throws {
        for name in TensorFlowCondFixtures.constantCases {
            let facts = try TensorFlowCondFixtures.facts(name)
            let model = try read(name)
            try model.validate()
            XCTAssertEqual(model.inputs, ["input"], name)
            XCTAssertEqual(model.outputs, [facts.outputNode], name)
            let needed = model.nodesTheOutputsNeed()
            let ran = Set(facts.ran)
            var untaken = 0
            for (i, node) in model.nodes.enumerated() {
                guard let record = record(node) else { XCTFail("\(name): \(node.name) has no record"); continue }
                if record.nodeDefNames.contains(where: facts.notComputed.contains) {
                    XCTAssertFalse(needed[i], "\(name): \(node.name) never ran in TensorFlow")
                }
                if case .batchNorm = node.op {
                    XCTAssertEqual(needed[i], record.nodeDefNames.allSatisfy(ran.contains), "\(name): \(node.name)")
                }
                if record.nodeDefNames.isEmpty {
                    // The untaken output of a Switch, named by its tensor (`cond/Switch:0` writes `cond/Switch`).
                    let tensor = GraphDefGraph.parse(node.name)
                    XCTAssertEqual(node.outputs, [tensor.value], name)
                    XCTAssertTrue(facts.switches.contains { $0.name == tensor.node }, "\(name): \(node.name)")
                    XCTAssertFalse(needed[i], "\(name): \(node.name)")
                    untaken += 1
                }
            }
            XCTAssertGreaterThan(untaken, 0, name)
            for s in facts.switches {
                guard let node = model.node(named: s.name) else { continue }
                XCTAssertEqual(node.op, .identity, "\(name): \(s.name)")
                XCTAssertEqual(node.inputs, [s.data], "\(name): \(s.name)")
            }
            for m in facts.merges {
                guard let node = model.node(named: m.name) else { continue }
                XCTAssertEqual(node.op, .identity, "\(name): \(m.name)")
                XCTAssertEqual(node.inputs.count, 1, "\(name): \(m.name)")
                XCTAssertTrue(ran.contains(GraphDefGraph.parse(node.inputs[0]).node), "\(name): \(m.name) passes on \(node.inputs)")
            }
        }
    }

    /// Each BatchNorm inside a constant cond says which branch of which tf.cond it is in, and
    /// whether that branch is taken; one outside a cond says nothing.
    func testEachBatchNormSaysItsBranch() throws {
        var described = 0
        for name in TensorFlowCondFixtures.constantCases {
            let facts = try TensorFlowCondFixtures.facts(name)
            let model = try read(name)
            let ran = Set(facts.ran)
            for i in model.batchNormIndices {
                let node = model.nodes[i]
                let records = try XCTUnwrap(record(node))
                guard let branch = (node.source as? any BranchDescription)?.branch else {
                    XCTAssertFalse(node.inputs.contains { $0.contains("/Switch") }, "\(name): \(node.name) reads a Switch, yet has no branch")
                    continue
                }
                described += 1
                let cond = try XCTUnwrap(branch.components(separatedBy: "tf.cond '").dropFirst().first?.components(separatedBy: "'").first)
                XCTAssertTrue(node.name.hasPrefix(cond + "/"), "\(name): \(node.name) in \(branch)")
                let taken = records.nodeDefNames.allSatisfy(ran.contains)
                XCTAssertEqual(branch.contains(", taken:"), taken, "\(name): \(node.name): \(branch)")
                XCTAssertEqual(branch.contains("not taken") || branch.contains("never taken"), !taken, "\(name): \(node.name): \(branch)")
                XCTAssertTrue(branch.contains(name == "cond_training_flag" ? "PlaceholderWithDefault 'training'" : "the constant true"), branch)
            }
        }
        XCTAssertEqual(described, 6)
    }

    /// A Switch whose predicate is computed is modelled as it is, its op naming the predicate that
    /// is not constant; each of its outputs read is a node of its own.
    func testAComputedPredicateIsLeftAsItIs() throws {
        let facts = try TensorFlowCondFixtures.facts("cond_computed_pred")
        let model = try read("cond_computed_pred")
        try model.validate()
        XCTAssertEqual(model.outputs, [facts.outputNode])
        var opaque = 0
        for node in model.nodes {
            guard case .opaque(let type) = node.op, type != "Merge" else { continue }
            XCTAssertTrue(facts.switches.contains { $0.name == node.name || node.name.hasPrefix($0.name + ":") }, node.name)
            XCTAssertEqual(type, "Switch (its predicate pick/pred_id is not constant)", node.name)
            XCTAssertEqual(node.outputs.count, 1, node.name)
            opaque += 1
        }
        XCTAssertEqual(opaque, 2)
        // Its branches' BatchNorms read their statistics through Switches of Consts: still weights.
        XCTAssertEqual(model.batchNormIndices.count, 2)
    }

    /// Folding writes back every NodeDef it did not change byte for byte: the Switches, the Merges
    /// and the untaken branches are all in the file as TensorFlow wrote them; only the folded BN's
    /// NodeDefs and weights go, and only its target's weights and its readers change.
    func testAFoldedCondGraphKeepsEveryUntouchedNodeDef() throws {
        for name in TensorFlowCondFixtures.constantCases {
            let facts = try TensorFlowCondFixtures.facts(name)
            let original = try TensorFlowFixtures.bytes(name)
            let model = try read(name)
            let result = try FoldBatchNorm().apply(to: model)
            let folded = result.decisions.filter(\.folds)
            XCTAssertEqual(folded.count, 1, "\(name): \(result.decisions)")
            let written = try GraphDefWriter.serialize(result.model, file: "\(name).pb")
            let before = try TensorFlowCondFixtures.nodeMessages(original)
            let after = try TensorFlowCondFixtures.nodeMessages(written)
            // What the fold may touch: the folded BN's NodeDefs and weight paths (removed), its
            // target's weight Consts (rewritten), the NodeDefs reading the BN (rewired).
            let bnRecords = folded.compactMap { model.node(named: $0.batchNorm) }.compactMap(record)
            let mayGo = Set(bnRecords.flatMap { $0.nodeDefNames + $0.auxiliaryNames })
            let targets = folded.compactMap { $0.target.flatMap(model.node(named:)) }
            let rewritten = Set(targets.flatMap { $0.weights.map(\.storageKey) })
            let bnOutputs = Set(bnRecords.map(\.outputNodeDef))
            let rewired = Set(before.keys.filter { name in
                (try? ProtobufGraphDefFile(bytes: original, file: "g").nodeDefs().first { $0.name == name }?.inputs
                    .contains { bnOutputs.contains(GraphDefGraph.parse($0).node) }) == true
            })
            var unchanged = 0
            for (node, message) in before {
                guard let now = after[node] else {
                    XCTAssertTrue(mayGo.contains(node), "\(name): \(node) was removed")
                    continue
                }
                if now == message { unchanged += 1; continue }
                XCTAssertTrue(rewritten.contains(node) || rewired.contains(node), "\(name): \(node) changed")
            }
            XCTAssertGreaterThan(unchanged, before.count - mayGo.count - rewritten.count - rewired.count - 1, name)
            // Control flow and untaken branches, untouched.
            for node in facts.switches.map(\.name) + facts.merges.map(\.name) + Array(facts.notComputed) where !mayGo.contains(node) {
                XCTAssertEqual(after[node], before[node], "\(name): \(node)")
            }
            // Read back: the same control flow, the same outputs, one BatchNorm fewer.
            let back = try GraphDefReader.read(bytes: written, file: "\(name).pb")
            XCTAssertEqual(back.outputs, model.outputs, name)
            XCTAssertEqual(back.batchNormIndices.count, model.batchNormIndices.count - 1, name)
        }
    }
}
