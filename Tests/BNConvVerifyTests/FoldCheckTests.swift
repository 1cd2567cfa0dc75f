@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Each fold checked on its own (``FoldChecker``), and the error measure: a correct fold passes,
/// a fold that dropped the BatchNorms' epsilon fails, both locally and on the whole model, even
/// though the whole-model measure forgives what the original's own float32 noise explains.
final class FoldCheckTests: XCTestCase {
    private func fixture(_ path: String) throws -> Model { try Checkpoint.read(FixturePaths.url(path).path) }

    private func checks(_ model: Model, _ folded: FoldBatchNorm.Result) -> [FoldToCheck] {
        folded.decisions.compactMap { d in
            d.target.map { FoldToCheck(batchNorm: d.batchNorm, target: $0, intoProducer: d.direction != .intoConsumer) }
        }
    }

    /// Every Keras 2 fixture: each fold, into the layer before or after it, checks on its own
    /// within 1e-5 (range-relative) of the original layers.
    func testEveryCorrectFoldChecksOnItsOwn() throws {
        var checked = 0
        for fixture in try KerasFixtureCase.all() {
            let path = fixture.directory.appendingPathComponent("keras2.h5").path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let model = try Checkpoint.read(path)
            let folded = try FoldBatchNorm().apply(to: model)
            // float16 and bfloat16 weights are checked at their dtype's epsilon, as verification does.
            let tolerance = DefaultTolerance.forCandidate(folded.model).tolerance
            for check in FoldChecker.check(checks(model, folded), reference: model, candidate: folded.model) {
                XCTAssertNil(check.skipped, "\(fixture.name) \(check.batchNorm): \(check.skipped ?? "")")
                XCTAssertTrue(check.agrees(tolerance: tolerance), "\(fixture.name) \(check.batchNorm): \(String(describing: check.error))")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20)
    }

    /// A folder that forgot epsilon (folds with epsilon 0): every check of a BN whose epsilon
    /// matters fails, and so does the whole-model verification with its noise allowance measured.
    func testADroppedEpsilonFailsLocallyAndOnTheWholeModel() throws {
        // Its BN has epsilon 2e-3 (tools/fixtures/cases.py), large enough to matter.
        let model = try fixture("keras/conv2d_transpose_bn/keras2.h5")
        var careless = model
        for i in careless.batchNormIndices {
            guard case .batchNorm(var bn) = careless.nodes[i].op else { continue }
            XCTAssertGreaterThan(bn.epsilon, 1e-4, "the fixture's epsilons are not the default tiny ones")
            bn.epsilon = 0
            careless.nodes[i].op = .batchNorm(bn)
        }
        let wrong = try FoldBatchNorm().apply(to: careless)
        let local = FoldChecker.check(checks(model, wrong), reference: model, candidate: wrong.model)
        XCTAssertFalse(local.isEmpty)
        XCTAssertTrue(local.allSatisfy { $0.error != nil && !$0.agrees(tolerance: 1e-5) }, "\(local.map { $0.error?.maxRel ?? -1 })")
        var report = try Verifier().compare(reference: model, candidate: wrong.model, foldMap: wrong.valueMap)
        report.foldChecks = local
        XCTAssertFalse(report.passed)
        XCTAssertTrue(report.outputs.allSatisfy { !$0.agrees(tolerance: 1e-5) }, "the whole-model measure forgives a dropped epsilon")
        XCTAssertNotNil(report.outputs.first?.noiseFloor, "the original's own noise was measured before failing")
    }

    /// The output measure forgives what float32 rounding upstream explains and nothing more: an
    /// output beyond the range tolerance passes within 16 times the original's own noise (at the
    /// default tolerance), fails beyond it, and a tolerance of 0 forgives nothing.
    func testTheNoiseAllowanceIsSixteenTimesTheOriginalsNoiseAtTheDefaultTolerance() throws {
        let reference = Tensor(shape: [4], floats: [1e-5, 2e-6, 0, 3e-6])
        let candidate = Tensor(shape: [4], floats: [1e-5 + 1e-7, 2e-6, 0, 3e-6])
        let error = try ErrorStatistics(reference: reference, candidate: candidate)
        XCTAssertGreaterThan(error.maxRel, 1e-5)
        var output = VerificationReport.Output(name: "y", shape: [4], error: error)
        XCTAssertFalse(output.agrees(tolerance: 1e-5), "no noise measured: the range decides")
        output.noiseFloor = error.maxAbs / 15
        XCTAssertTrue(output.agrees(tolerance: 1e-5))
        XCTAssertFalse(output.agrees(tolerance: 0))
        output.noiseFloor = error.maxAbs / 17
        XCTAssertFalse(output.agrees(tolerance: 1e-5))
    }
}
