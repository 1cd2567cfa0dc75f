@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

final class BatchNormStatisticsTests: XCTestCase {
    private func fixture() throws -> (Model, Tensor) {
        let model = try Checkpoint.read(FixturePaths.url("keras/mini_resnet/keras3.keras").path)
        return (model, try fixtureArray("keras/mini_resnet/calib.npy"))
    }

    /// With `.batch`, every BN reports its input's moments once per run, in node order, and the
    /// run's output differs from inference (the BNs normalize with batch statistics).
    func testBatchStatisticsReportEveryBatchNormInNodeOrder() throws {
        let (model, x) = try fixture()
        let runner = try ModelRunner(model: model, options: RunOptions(batchNormStatistics: .batch))
        var seen: [BatchNormObservation] = []
        let training = try runner.run([x], batchNormMoments: { seen.append($0) })
        XCTAssertEqual(seen.map(\.node), model.batchNormIndices.map { model.nodes[$0].name })
        XCTAssertTrue(seen.allSatisfy { $0.inputShape.first == 16 && $0.moments.count > 0 })
        let inference = try ModelRunner(model: model).run([x])
        XCTAssertEqual(training[0].shape, inference[0].shape)
        XCTAssertGreaterThan(relativeError(training[0].floats(), inference[0].floats()), 1e-3)
    }

    /// The reported moments are those of the BN's input: the first BN's input observed through
    /// `observe` has the same moments.
    func testReportedMomentsAreTheInputMoments() throws {
        let (model, x) = try fixture()
        let runner = try ModelRunner(model: model, options: RunOptions(batchNormStatistics: .batch))
        let bn = model.nodes[model.batchNormIndices[0]]
        guard case .batchNorm(let attributes) = bn.op else { return XCTFail("not a BN") }
        var input: Tensor?
        var reported: BatchNormObservation?
        _ = try runner.run([x], observe: { name, t in if name == bn.inputs[0] { input = t } },
                           batchNormMoments: { if $0.node == bn.name { reported = $0 } })
        let t = try XCTUnwrap(input)
        let expected = try BatchNormMoments(of: t.floats(), shape: t.shape, axis: attributes.axis)
        let got = try XCTUnwrap(reported)
        XCTAssertEqual(got.inputShape, t.shape)
        XCTAssertLessThanOrEqual(relativeError(got.moments.mean, expected.mean), 1e-12)
        XCTAssertLessThanOrEqual(relativeError(got.moments.variance, expected.variance), 1e-12)
    }

    /// The default leaves inference BNs fused and silent.
    func testAsRecordedReportsNothing() throws {
        let (model, x) = try fixture()
        var count = 0
        _ = try ModelRunner(model: model).run([x], batchNormMoments: { _ in count += 1 })
        XCTAssertEqual(count, 0)
    }
}
