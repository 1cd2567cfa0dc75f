@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvCalibration
import XCTest

/// A Keras fixture case with recalibration references (Tests/Fixtures/keras/<case>/recal_*.json),
/// read with the flavour's model file.
struct RecalibrationFixture {
    /// Cases with references.
    static let cases = ["conv2d_bias_bn", "dense_bn", "mini_resnet"]
    /// Model file per flavour.
    static let files = ["keras2": "keras2.h5", "keras3": "keras3.keras"]

    let name: String
    let flavour: String

    /// The model as bnconv reads it.
    func model() throws -> Model { try Checkpoint.read(FixturePaths.url("keras/\(name)/\(Self.files[flavour]!)").path) }

    /// `calib.npy` as a calibration set.
    func data() throws -> CalibrationSet { try CalibrationSet(inputs: [fixtureArray("keras/\(name)/calib.npy")]) }

    /// What Keras stored after `model(batch, training=True)` on batches of 4: BN name -> (mean, variance).
    func momentumReference() throws -> [String: (mean: [Double], variance: [Double])] {
        let json = try fixtureJSON("keras/\(name)/recal_momentum_\(flavour).json")
        let bns = try XCTUnwrap(json["batch_norms"] as? [String: [String: Any]])
        return try bns.mapValues { ($0["moving_mean"] as? [Double] ?? [], try XCTUnwrap($0["moving_variance"] as? [Double])) }
    }

    /// numpy's float64 population statistics under `key` ("sequential" or "inference").
    func cumulativeReference(_ key: String) throws -> [String: (mean: [Double], variance: [Double])] {
        let json = try fixtureJSON("keras/\(name)/recal_cumulative.json")
        let flavourJSON = try XCTUnwrap(json[flavour] as? [String: Any])
        let bns = try XCTUnwrap(flavourJSON[key] as? [String: [String: Any]])
        return try bns.mapValues { (try XCTUnwrap($0["mean"] as? [Double]), try XCTUnwrap($0["variance"] as? [Double])) }
    }
}

/// Asserts every BN of `model` holds the reference statistics within `tolerance` relative to the
/// largest magnitude of each reference vector; shapes (channel counts) first.
func assertBatchNormStatistics(_ model: Model, _ reference: [String: (mean: [Double], variance: [Double])],
                               tolerance: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    let bns = model.batchNormIndices.map { model.nodes[$0] }
    XCTAssertEqual(Set(bns.map(\.name)), Set(reference.keys), "BN names \(message)", file: file, line: line)
    for node in bns {
        guard let expected = reference[node.name],
              let mean = node.weight(.movingMean)?.tensor.doubles(),
              let variance = node.weight(.movingVariance)?.tensor.doubles() else { continue }
        XCTAssertEqual(mean.count, expected.mean.count, "\(node.name) mean channels \(message)", file: file, line: line)
        XCTAssertEqual(variance.count, expected.variance.count, "\(node.name) variance channels \(message)", file: file, line: line)
        let meanError = relativeError(mean, expected.mean), varianceError = relativeError(variance, expected.variance)
        XCTAssertLessThanOrEqual(meanError, tolerance, "\(node.name) moving_mean \(message)", file: file, line: line)
        XCTAssertLessThanOrEqual(varianceError, tolerance, "\(node.name) moving_variance \(message)", file: file, line: line)
    }
}
