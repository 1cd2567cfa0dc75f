@testable import BNConvCore
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Folds every Keras fixture in every flavour (Tests/Fixtures/keras, written by real Keras) and checks
/// the result against what Keras recorded: the decisions a correct folder makes (facts.json
/// `expect_fold`, `expect_fold_into_next`), the folded model's engine output against Keras's own
/// prediction of the original, the written file read back, untouched weights bit-identical, and a
/// folded file no larger than its input. `make interop` loads the same outputs in real Keras.
final class FoldBatchNormFixtureTests: XCTestCase {
    /// Cases whose Keras layers compute in half precision (see ModelRunnerKerasFixturesTests).
    private let halfPrecisionTolerance: [String: Double] = ["mixed_dtypes": 5e-3, "mixed_bfloat16": 2e-2]

    func testEveryFixtureFoldsAsKerasFactsSay() throws {
        let scratch = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var files = 0, folds = 0, worst = (0.0, "")
        for fixture in try KerasFixtureCase.all() {
            let input = try NumPyFile.read(fixture.directory.appendingPathComponent("input.npy").path)
            for flavour in ["keras2", "keras3"] {
                guard let facts = fixture.flavour(flavour) else { continue }
                let expected = expectedDecisions(facts, fixture.facts)
                let reference = try references(fixture, facts)
                for (path, config) in fixture.checkpoints(flavour) where FileManager.default.fileExists(atPath: path) {
                    let label = "\(fixture.name)/\(URL(fileURLWithPath: path).lastPathComponent)"
                    let original = try Checkpoint.read(path, config: config)
                    let result = try FoldBatchNorm().apply(to: original)
                    files += 1
                    folds += result.decisions.filter(\.folds).count

                    // 1. The decisions a correct folder makes.
                    let actual = Dictionary(uniqueKeysWithValues: result.decisions.map { ($0.batchNorm, $0.target) })
                    XCTAssertEqual(actual.count, expected.count, "\(label): BN count \(actual.keys.sorted())")
                    for (bn, target) in expected {
                        let name = actual.keys.first { $0 == bn || $0.hasSuffix("/\(bn)") }
                        XCTAssertNotNil(name, "\(label): no decision for \(bn)")
                        guard let name else { continue }
                        XCTAssertEqual(actual[name]!.map(leaf), target, "\(label): \(bn) -> \(result.decisions.first { $0.batchNorm == name }!.reason ?? "")")
                    }
                    XCTAssertTrue(planBatchNormFolds(result.model).allSatisfy { !$0.folds }, "\(label): a foldable BN remains")

                    // 2. The folded model computes what Keras computed for the original.
                    let outputs = try ModelRunner(model: result.model).run([input])
                    let tolerance = halfPrecisionTolerance[fixture.name] ?? 1e-5
                    XCTAssertEqual(outputs.count, reference.count, label)
                    for (output, ref) in zip(outputs, reference) {
                        assertClose(output, ref, tolerance: tolerance, label)
                        if halfPrecisionTolerance[fixture.name] == nil, output.shape == ref.shape {
                            let e = relativeError(output.floats(), ref.floats())
                            if e > worst.0 { worst = (e, label) }
                        }
                    }

                    // 3. Written, read back: equal weights, untouched ones bit-identical, no growth.
                    // (A weights-only file reads back only with the folded architecture: see WeightsOnlyFoldTests.)
                    guard config == nil else { continue }
                    let name = URL(fileURLWithPath: path).lastPathComponent
                    let target = scratch.appendingPathComponent("\(fixture.name)-\(name)").path
                    try Checkpoint.write(result.model, to: target)
                    let reread = try Checkpoint.read(target, config: config)
                    XCTAssertEqual(reread.batchNormIndices.count, result.model.batchNormIndices.count, "\(label): BN count after re-read")
                    for node in result.model.nodes {
                        guard let back = reread.nodes.first(where: { $0.name == node.name }) else {
                            XCTFail("\(label): \(node.name) missing after re-read"); continue
                        }
                        XCTAssertEqual(back.weights.map(\.role), node.weights.map(\.role), "\(label): \(node.name) roles")
                        for (w, b) in zip(node.weights, back.weights) {
                            XCTAssertEqual(b.tensor, w.tensor, "\(label): \(node.name)/\(w.role) changed on disk")
                            if !w.isModified, let before = original.node(named: node.name)?.weight(w.role) {
                                XCTAssertEqual(b.tensor.bytes, before.tensor.bytes, "\(label): untouched \(node.name)/\(w.role) not bit-identical")
                            }
                        }
                    }
                    let before = try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber
                    let after = try FileManager.default.attributesOfItem(atPath: target)[.size] as! NSNumber
                    // An unchanged model is copied byte for byte by `bnconv fold` (see FoldCommandTests).
                    if result.changed {
                        XCTAssertLessThan(after.intValue, before.intValue, "\(label): folded file did not shrink")
                    }
                }
            }
        }
        print("Folded \(files) Keras fixture files (\(folds) BatchNorms folded); worst error \(worst.0) x max|ref| in \(worst.1)")
        XCTAssertGreaterThan(files, 100)
    }

    /// A BN whose moving variance is scaled by 4 makes verification fail at that very layer.
    func testCorruptedVarianceIsFoundAtItsLayer() throws {
        let path = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let original = try Checkpoint.read(path)
        var corrupted = original
        let index = try XCTUnwrap(corrupted.batchNormIndices.dropFirst(2).first)
        var node = corrupted.nodes[index]
        var variance = try XCTUnwrap(node.weight(.movingVariance))
        variance.tensor = Tensor(shape: variance.tensor.shape, doubles: variance.tensor.doubles().map { $0 * 4 }, dtype: variance.tensor.dtype)
        node.setWeight(variance)
        corrupted.nodes[index] = node
        let report = try Verifier().compare(reference: original, candidate: corrupted)
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.firstDivergence?.node, node.name)

        // The same against the folded model: the divergence is still located at that BN's layer.
        let folded = try FoldBatchNorm().apply(to: corrupted)
        let againstFolded = try Verifier().compare(reference: original, candidate: folded.model)
        XCTAssertFalse(againstFolded.passed)
        let target = try XCTUnwrap(folded.decisions.first { $0.batchNorm == node.name }?.target)
        XCTAssertEqual(againstFolded.firstDivergence?.node, target)
    }

    /// `expect_fold` and `expect_fold_into_next` of a flavour (or of the case).
    private func expectedDecisions(_ facts: [String: Any], _ caseFacts: [String: Any]) -> [String: String?] {
        var out: [String: String?] = [:]
        for source in [caseFacts, facts] {
            for (bn, target) in (source["expect_fold"] as? [String: Any]) ?? [:] { out[bn] = target as? String }
            for (bn, target) in (source["expect_fold_into_next"] as? [String: Any]) ?? [:] where target is String {
                out[bn] = target as? String
            }
        }
        return out
    }

    /// The recorded outputs of a flavour, in order.
    private func references(_ fixture: KerasFixtureCase, _ facts: [String: Any]) throws -> [Tensor] {
        let outputs = (facts["outputs"] as? [[String: Any]]) ?? []
        return try outputs.compactMap { $0["file"] as? String }.map {
            try NumPyFile.read(fixture.directory.appendingPathComponent($0).path)
        }
    }

    private func leaf(_ name: String) -> String { name.split(separator: "/").last.map(String.init) ?? name }
}
