@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Reads every committed Keras fixture in every flavour and checks the Model against what Keras
/// itself reported (facts.json).
final class KerasReaderTests: XCTestCase {
    func testEveryFixtureReadsWithTheLayersAndBatchNormsKerasBuilt() throws {
        let cases = try KerasFixtureCase.all()
        try XCTSkipIf(cases.isEmpty, "no Keras fixtures committed yet")
        var checked = 0
        for fixture in cases {
            for key in ["keras2", "keras3"] {
                guard let facts = fixture.flavour(key) else { continue }
                for (path, config) in fixture.checkpoints(key) {
                    let model: Model
                    do { model = try Checkpoint.read(path, config: config) } catch {
                        XCTFail("\(fixture.name)/\((path as NSString).lastPathComponent): \(error)")
                        continue
                    }
                    let label = "\(fixture.name)/\((path as NSString).lastPathComponent)"
                    XCTAssertNoThrow(try model.validate(), label)
                    assertLayers(model, facts, label)
                    assertBatchNorms(model, facts, label, path: path)
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }

    func testFlavourIsDetected() throws {
        let cases = try KerasFixtureCase.all()
        try XCTSkipIf(cases.isEmpty, "no Keras fixtures committed yet")
        let expected: [String: CheckpointFormat] = [
            "keras2.h5": .keras2H5, "keras2_weights.h5": .keras2WeightsH5, "keras2.keras": .kerasZip,
            "keras3.keras": .kerasZip, "keras3.weights.h5": .keras3WeightsH5, "keras3_legacy.h5": .keras3LegacyH5,
        ]
        for fixture in cases.prefix(3) {
            for key in ["keras2", "keras3"] {
                for (path, config) in fixture.checkpoints(key) {
                    let file = (path as NSString).lastPathComponent
                    let model = try Checkpoint.read(path, config: config)
                    XCTAssertEqual(model.format, expected[file], "\(fixture.name)/\(file)")
                    let record = try XCTUnwrap(model.source as? KerasModelRecord)
                    XCTAssertEqual(record.dialect.rawValue, key, "\(fixture.name)/\(file) dialect")
                }
            }
        }
    }

    func testFoldIntoProducerMatchesWhatACorrectFolderDoes() throws {
        let cases = try KerasFixtureCase.all()
        try XCTSkipIf(cases.isEmpty, "no Keras fixtures committed yet")
        for fixture in cases {
            for key in ["keras2", "keras3"] {
                guard let expect = fixture.flavour(key)?["expect_fold"] as? [String: Any],
                      let (path, config) = fixture.checkpoints(key).first else { continue }
                let model = try Checkpoint.read(path, config: config)
                let decisions = planBatchNormFolds(model)
                for (bn, target) in expect {
                    guard let decision = decisions.first(where: { ($0.batchNorm.split(separator: "/").last.map(String.init)) == bn }) else {
                        XCTFail("\(fixture.name) \(key): no decision for \(bn)")
                        continue
                    }
                    if let target = target as? String {
                        XCTAssertEqual(decision.target.map { String($0.split(separator: "/").last!) }, target,
                                       "\(fixture.name) \(key) \(bn): \(decision.reason ?? "")")
                    } else {
                        XCTAssertNotEqual(decision.direction, .intoProducer, "\(fixture.name) \(key) \(bn) must not fold into its producer")
                    }
                }
            }
        }
    }

    // MARK: Assertions

    /// The top-level layers (a nested model counts once, by its name) in Keras's order, without InputLayers.
    private func assertLayers(_ model: Model, _ facts: [String: Any], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = ((facts["layers"] as? [[String: Any]]) ?? [])
            .filter { ($0["class_name"] as? String) != "InputLayer" }
            .map { "\($0["name"] ?? "")" }
        var seen: [String] = []
        for node in model.nodes {
            guard let record = node.source as? KerasLayerRecord, record.className != "InputLayer" else { continue }
            let top = record.containerPath.first ?? record.layerName
            if seen.last != top, !seen.contains(top) { seen.append(top) }
        }
        XCTAssertEqual(seen, expected, "\(label): layers", file: file, line: line)
    }

    private func assertBatchNorms(_ model: Model, _ facts: [String: Any], _ label: String, path: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        let expected = (facts["batch_norms"] as? [[String: Any]]) ?? []
        let bnNodes = model.nodes.filter { if case .batchNorm = $0.op { return true } else { return false } }
        XCTAssertEqual(bnNodes.count, expected.count, "\(label): BatchNorm count", file: file, line: line)
        let isLegacyH5 = path.hasSuffix(".h5") && !path.hasSuffix(".weights.h5")
        for bnFacts in expected {
            let nodeName = "\(bnFacts["path"] ?? bnFacts["name"] ?? "")"
            guard let node = model.node(named: nodeName), case .batchNorm(let bn) = node.op else {
                XCTFail("\(label): no BatchNorm node '\(nodeName)'", file: file, line: line)
                continue
            }
            let where_ = "\(label) \(nodeName)"
            XCTAssertEqual(bn.epsilon, (bnFacts["epsilon"] as? NSNumber)?.doubleValue, "\(where_) epsilon", file: file, line: line)
            XCTAssertEqual(bn.momentum, (bnFacts["momentum"] as? NSNumber)?.doubleValue, "\(where_) momentum", file: file, line: line)
            let axis = (bnFacts["axis"] as? NSNumber)?.intValue ?? (bnFacts["axis"] as? [NSNumber])?.first?.intValue
            XCTAssertEqual(bn.axis, axis, "\(where_) axis", file: file, line: line)
            XCTAssertEqual(bn.center, bnFacts["center"] as? Bool, "\(where_) center", file: file, line: line)
            XCTAssertEqual(bn.scale, bnFacts["scale"] as? Bool, "\(where_) scale", file: file, line: line)
            let variables = (bnFacts["variables"] as? [[String: Any]]) ?? []
            XCTAssertEqual(node.weights.count, variables.count, "\(where_) variable count", file: file, line: line)
            let record = node.source as? KerasLayerRecord
            for (weight, v) in zip(node.weights, variables) {
                let factName = "\(v["name"] ?? "")"
                XCTAssertEqual(weight.tensor.shape, (v["shape"] as? [NSNumber])?.map(\.intValue), "\(where_) \(factName) shape", file: file, line: line)
                XCTAssertEqual(weight.tensor.dtype.rawValue, v["dtype"] as? String, "\(where_) \(factName) dtype", file: file, line: line)
                XCTAssertEqual(weight.role.rawValue, KerasStoredVariable.variableName(fromStoredName: factName), "\(where_) role", file: file, line: line)
                // The stored name: Keras 2 lists `variable.name`, Keras 3 `variable.path`.
                let factStored = (v["path"] as? String) ?? factName
                if isLegacyH5 || path.contains("keras3") {
                    XCTAssertEqual(record?.storedNames[weight.role.rawValue], factStored, "\(where_) stored name", file: file, line: line)
                }
            }
        }
    }
}
