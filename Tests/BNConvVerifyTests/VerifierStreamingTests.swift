@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Verification of models whose weights stay in their file (read with deferred weights, as
/// `bnconv fold` reads them): the runners stream the weights and the two runs advance in turns,
/// and the report must be the one a verification of the loaded models gives.
final class VerifierStreamingTests: XCTestCase {
    /// Every Keras 2 `.h5` fixture, read with every weight left in the file and folded: the
    /// streamed verification reports the same errors as the verification of the loaded models.
    func testStreamedVerificationReportsWhatLoadedVerificationReports() throws {
        var checked = 0, streamedWeights = 0
        for fixture in try KerasFixtureCase.all() {
            let path = fixture.directory.appendingPathComponent("keras2.h5").path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let deferred = try Checkpoint.read(path, deferringWeights: 0)
            guard deferred.hasDeferredWeights else { continue }
            streamedWeights += deferred.nodes.reduce(0) { n, node in
                n + node.weights.filter { $0.tensor.isDeferred && KernelWeights.streams(node, $0.role) }.count
            }
            let loaded = try deferred.withLoadedWeights()
            let foldedDeferred = try FoldBatchNorm().apply(to: deferred)
            let foldedLoaded = try FoldBatchNorm().apply(to: loaded)
            // The streamed runs use no Winograd filtering; the loaded ones are told the same, so
            // both compute the very same sums.
            var streaming = Verifier.Options(randomRuns: 2)
            XCTAssertTrue(streaming.streamsWeights)
            let streamed = try Verifier(options: streaming).compare(reference: deferred, candidate: foldedDeferred.model,
                                                                    foldMap: foldedDeferred.valueMap)
            streaming.streamsWeights = false
            let prepared = try Verifier(options: streaming).compare(reference: loaded, candidate: foldedLoaded.model,
                                                                    foldMap: foldedLoaded.valueMap)
            let label = fixture.name
            XCTAssertEqual(streamed.passed, prepared.passed, label)
            // Half-precision weights fold within their own epsilon, beyond the default 1e-5.
            if !label.hasPrefix("mixed_") {
                XCTAssertTrue(streamed.passed, "\(label): \(streamed.outputs.map(\.error.maxRel))")
            }
            XCTAssertEqual(streamed.layers.map(\.value), prepared.layers.map(\.value), "\(label): compared layers")
            for (a, b) in zip(streamed.outputs, prepared.outputs) {
                XCTAssertEqual(a.shape, b.shape, label)
                XCTAssertEqual(a.error.referenceMax, b.error.referenceMax, accuracy: 1e-6 * max(1, b.error.referenceMax), label)
                XCTAssertEqual(a.error.maxRel, b.error.maxRel, accuracy: 1e-6, label)
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 10)
        XCTAssertGreaterThan(streamedWeights, 10, "the fixtures must give the streaming kernels something to stream")
    }

    /// A BN whose moving variance is scaled by 4, in a model whose weights stay in the file, is
    /// found at its own layer when the two runs advance in turns.
    func testCorruptedVarianceIsFoundAtItsLayerWhenStreamed() throws {
        let path = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let original = try Checkpoint.read(path, deferringWeights: 0)
        XCTAssertTrue(original.hasDeferredWeights)
        var corrupted = original
        let index = try XCTUnwrap(corrupted.batchNormIndices.dropFirst(2).first)
        var node = corrupted.nodes[index]
        var variance = try XCTUnwrap(node.weight(.movingVariance))
        let loadedVariance = try variance.tensor.materialized()
        variance.tensor = Tensor(shape: loadedVariance.shape, doubles: loadedVariance.doubles().map { $0 * 4 }, dtype: loadedVariance.dtype)
        node.setWeight(variance)
        corrupted.nodes[index] = node
        let folded = try FoldBatchNorm().apply(to: corrupted)
        let report = try Verifier().compare(reference: original, candidate: folded.model, foldMap: folded.valueMap)
        XCTAssertFalse(report.passed)
        let target = try XCTUnwrap(folded.decisions.first { $0.batchNorm == node.name }?.target)
        XCTAssertEqual(report.firstDivergence?.node, target)
        // Every layer before it agrees.
        let before = report.layers.prefix { $0.node != target }
        XCTAssertFalse(before.isEmpty)
        XCTAssertTrue(before.allSatisfy { $0.error.maxRel <= 1e-5 }, "\(before.map { ($0.node, $0.error.maxRel) })")
    }
}
