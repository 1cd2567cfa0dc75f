@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvVerify
@testable import BNConvTestSupport
import XCTest

/// When the original layers' float32 run confirms their float64 reference (``ReferenceConfirmation``):
/// outright within 1e-3 of the range; beyond that only within float32's own rounding bound, which a
/// BN taking away a huge mean explains and a reference of other layers does not.
final class ReferenceConfirmationTests: XCTestCase {
    /// `input (N, 16) -> dense (bias ~offset) -> BN (mean = the bias)`: the BN leaves values of about
    /// 1 from sums of about `offset`.
    private func model(offset: Double, gamma: Double? = nil, betaShift: Double = 0) -> Model {
        var rng = FoldTestModels.Random(state: 23)
        let offsets = rng.uniform(4, offset * 0.99, offset * 1.01)
        let dense = Node(name: "dense", op: .dense(Dense(units: 4)), inputs: ["input"], outputs: ["p"],
                         weights: [FoldTestModels.weight(.kernel, [16, 4], .io, &rng, lo: -0.3, hi: 0.3),
                                   Weight(role: .bias, tensor: Tensor(shape: [4], doubles: offsets, dtype: .float32), storageKey: "bias")])
        var weights = FoldTestModels.bnWeights(4, &rng).filter { $0.role != .movingMean && $0.role != .gamma }.map { w -> Weight in
            guard w.role == .beta else { return w }
            var shifted = w
            shifted.tensor = Tensor(shape: [4], doubles: w.tensor.doubles().map { $0 + betaShift }, dtype: .float32)
            return shifted
        }
        weights.append(Weight(role: .movingMean, tensor: Tensor(shape: [4], doubles: offsets, dtype: .float32), storageKey: "mean"))
        weights.append(Weight(role: .gamma, tensor: Tensor(shape: [4], doubles: gamma.map { Array(repeating: $0, count: 4) } ?? rng.uniform(4, 0.5, 1.5),
                                                           dtype: .float32), storageKey: "gamma"))
        var m = FoldTestModels.chain(producer: dense, bn: BatchNorm(epsilon: 1e-3, axis: -1), bnWeights: weights, rank: 2)
        m.values["input"]?.shape = [nil, 16]
        return m
    }

    private func confirm(_ reference: Model, against original: Model) throws {
        let inputs = try RandomInputs.make(for: reference, batch: 3, seed: 1)
        let truth = try Float64Reference.run(reference, inputs: inputs)[0]
        let float32 = try ModelRunner(model: original).run(inputs)[0]
        try ReferenceConfirmation.confirm(truth, original: float32, floor: try ErrorStatistics(reference: truth, candidate: float32),
                                          model: reference, inputs: inputs)
    }

    /// A BN that takes away a mean of 3e5: float32 is 1e-2 of the range off, all of it rounding.
    func testFloat32RoundingOfAnIllConditionedBatchNormConfirmsTheReference() throws {
        let m = model(offset: 3e5)
        let inputs = try RandomInputs.make(for: m, batch: 3, seed: 1)
        let truth = try Float64Reference.run(m, inputs: inputs)[0]
        let floor = try ErrorStatistics(reference: truth, candidate: try ModelRunner(model: m).run(inputs)[0])
        XCTAssertGreaterThan(floor.maxRel, ReferenceConfirmation.rangeAgreement, "not ill-conditioned enough to need the bound")
        XCTAssertNoThrow(try confirm(m, against: m))
    }

    /// The float32 run of other layers is refused, with the reason: a BN whose beta differs by 100
    /// beside a mean of 1e5 (float32 can be off by about 4 there, not by 100), and one whose gamma
    /// differs with a mean of about 1 (where the range alone decides).
    func testAnotherComputationIsNotConfirmed() throws {
        XCTAssertThrowsError(try confirm(model(offset: 1e5), against: model(offset: 1e5, betaShift: 100))) { error in
            XCTAssertTrue("\(error)".contains("do not compute the same layers"), "\(error)")
        }
        XCTAssertNoThrow(try confirm(model(offset: 1e5), against: model(offset: 1e5)))
        XCTAssertThrowsError(try confirm(model(offset: 1, gamma: 1), against: model(offset: 1, gamma: 2)))
        XCTAssertNoThrow(try confirm(model(offset: 1), against: model(offset: 1)))
    }

    /// The bound of one dense layer is `|x| |W| + |b|` per output over `inputs + 1` roundings.
    func testTheRoundingScaleOfADenseLayerIsItsAbsoluteSum() throws {
        let x = Tensor(shape: [1, 2], floats: [-1, 2])
        let dense = Node(name: "d", op: .dense(Dense(units: 1)), inputs: ["x"], outputs: ["y"],
                         weights: [Weight(role: .kernel, tensor: Tensor(shape: [2, 1], floats: [3, -4]), layout: .io, storageKey: "k"),
                                   Weight(role: .bias, tensor: Tensor(shape: [1], floats: [-5]), storageKey: "b")])
        let m = Model(name: "d", format: .kerasZip, inputs: ["x"], outputs: ["y"], nodes: [dense], values: [:])
        let (magnitudes, roundings) = try Float64Reference.roundingScale(m, inputs: [x])
        XCTAssertEqual(magnitudes[0].values, [1 * 3 + 2 * 4 + 5])
        XCTAssertEqual(roundings, 3)
        XCTAssertEqual(try Float64Reference.run(m, inputs: [x])[0].values, [-1 * 3 + 2 * -4 - 5])
    }
}
