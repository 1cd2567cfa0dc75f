@testable import BNConvCore
@testable import BNConvEngine
import XCTest

/// One case of Tests/Fixtures/engine/bn (written by tools/fixtures/bn_reference.py).
struct BatchNormFixture {
    /// The case names.
    static let cases = ["nhwc", "nchw", "nc", "nlc"]

    let name: String
    let facts: [String: Any]
    let x: Tensor
    let axis: Int
    let epsilon: Double
    let momentum: Double

    init(_ name: String) throws {
        self.name = name
        facts = try fixtureJSON("engine/bn/\(name)/facts.json")
        x = try fixtureArray("engine/bn/\(name)/x.npy")
        axis = try XCTUnwrap(facts["axis"] as? Int)
        epsilon = try XCTUnwrap(facts["epsilon"] as? Double)
        momentum = try XCTUnwrap(facts["momentum"] as? Double)
    }

    /// An array of the case.
    func array(_ file: String) throws -> Tensor { try fixtureArray("engine/bn/\(name)/\(file).npy") }

    /// The case's layer with its random parameters.
    func layer(movingAverage: BatchNormMovingAverage? = nil, center: Bool = true, scale: Bool = true) throws -> BatchNormLayer {
        BatchNormLayer(axis: axis, epsilon: epsilon,
                       gamma: scale ? try array("gamma").doubles() : nil,
                       beta: center ? try array("beta").doubles() : nil,
                       movingMean: try array("moving_mean").doubles(), movingVariance: try array("moving_variance").doubles(),
                       movingAverage: movingAverage ?? .keras3(momentum: momentum))
    }

    /// Which batch variance the flavour fed its moving average, as recorded.
    func recordedVariance(_ flavour: String) throws -> VarianceCorrection {
        let flavours = try XCTUnwrap(facts["flavours"] as? [String: [String: Any]])
        let kind = try XCTUnwrap(flavours[flavour]?["moving_variance_update"] as? String)
        return kind == "unbiased" ? .unbiased : .biased
    }
}
