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
    /// against a float64 reference of the original layers and agrees with it.
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
                XCTAssertNotNil(check.referenceError, "\(fixture.name) \(check.batchNorm): \(check.referenceSkipped ?? "")")
                XCTAssertTrue(check.agrees(tolerance: tolerance), "\(fixture.name) \(check.batchNorm): \(String(describing: check.error))")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20)
    }

    /// The checks run on every core at once give what each check gives alone, in the folds' order,
    /// whether the weights are held in memory or lent from the file's mapping: the same errors, bit
    /// for bit.
    func testChecksOnEveryCoreGiveWhatEachGivesAlone() throws {
        let path = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        for deferral in [nil, 0] as [Int?] {
            let model = try Checkpoint.read(path, deferringWeights: deferral)
            let folded = try FoldBatchNorm().apply(to: model)
            let folds = checks(model, folded)
            XCTAssertGreaterThanOrEqual(folds.count, 4)
            let together = FoldChecker.check(folds, reference: model, candidate: folded.model)
            XCTAssertEqual(together.map(\.batchNorm), folds.map(\.batchNorm))
            for (fold, check) in zip(folds, together) {
                let alone = try XCTUnwrap(FoldChecker.check([fold], reference: model, candidate: folded.model).first)
                XCTAssertNil(check.skipped, "\(fold.batchNorm): \(check.skipped ?? "")")
                XCTAssertEqual(check.error, alone.error, fold.batchNorm)
                XCTAssertEqual(check.referenceError, alone.referenceError, fold.batchNorm)
                XCTAssertEqual(check.noiseFloor, alone.noiseFloor, fold.batchNorm)
            }
        }
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

    /// A dense layer whose bias of about 3000 (or 300000) its BatchNorm's mean takes away again:
    /// float32 rounds the original layers' sum at that bias's spacing (2.4e-4, or 3.1e-2: beyond
    /// 1e-3 of the range, where float32's rounding bound confirms the reference), the folded layer
    /// never forms it. The float32 runs differ by far more than 1e-5 of the output's range, so
    /// comparing them fails this correct fold; against the float64 reference the folded layer is the
    /// exact one and passes.
    func testAnIllConditionedCorrectFoldPassesAgainstTheFloat64Reference() throws {
        for offset in [3e3, 3e5] {
            var rng = FoldTestModels.Random(state: 17)
            let offsets = rng.uniform(4, offset * 0.997, offset * 1.003)
            let dense = Node(name: "dense", op: .dense(Dense(units: 4)), inputs: ["input"], outputs: ["p"],
                             weights: [FoldTestModels.weight(.kernel, [16, 4], .io, &rng, lo: -0.3, hi: 0.3),
                                       Weight(role: .bias, tensor: Tensor(shape: [4], doubles: offsets, dtype: .float32), storageKey: "bias")])
            var bnWeights = FoldTestModels.bnWeights(4, &rng)
            bnWeights.removeAll { $0.role == .movingMean }
            bnWeights.append(Weight(role: .movingMean, tensor: Tensor(shape: [4], doubles: offsets, dtype: .float32), storageKey: "mean"))
            var model = FoldTestModels.chain(producer: dense, bn: BatchNorm(epsilon: 1e-3, axis: -1), bnWeights: bnWeights, rank: 2)
            model.values["input"]?.shape = [nil, 16]
            let folded = try FoldBatchNorm().apply(to: model)
            let check = try XCTUnwrap(FoldChecker.check(checks(model, folded), reference: model, candidate: folded.model).first)
            XCTAssertNil(check.referenceSkipped, "\(offset): \(check.referenceSkipped ?? "")")
            let float32 = try XCTUnwrap(check.error), reference = try XCTUnwrap(check.referenceError), floor = try XCTUnwrap(check.noiseFloor)
            XCTAssertGreaterThan(float32.maxRel, 1e-5, "\(offset): the two float32 runs agree: not an ill-conditioned case")
            XCTAssertGreaterThan(floor.maxRel, offset > 1e4 ? ReferenceConfirmation.rangeAgreement : 1e-5, "\(offset): the original layers' own float32 error")
            XCTAssertTrue(check.agrees(tolerance: 1e-5), "\(offset): \(reference) floor \(floor)")
            // The old measure (the float32 runs compared) would have failed it.
            XCTAssertFalse(FoldCheck(batchNorm: "bn", target: "dense", error: float32).agrees(tolerance: 1e-5))
        }
    }

    /// The measure: within the tolerance of the reference's range passes; beyond it, up to
    /// ``FoldCheck/noiseMultiple`` times the original layers' own float32 error (max abs) passes and
    /// more fails; a tolerance of 0 forgives nothing; without a reference the float32 runs decide.
    func testTheMeasureIsTheToleranceOrSixteenTimesTheNoiseFloor() {
        func stats(_ maxAbs: Double) -> ErrorStatistics { Self.stats(maxAbs) }
        var check = FoldCheck(batchNorm: "bn", target: "conv", error: stats(1))
        check.referenceError = stats(5e-6)
        check.noiseFloor = stats(1e-9)
        XCTAssertTrue(check.agrees(tolerance: 1e-5), "within the tolerance")
        check.referenceError = stats(1.5e-4)
        check.noiseFloor = stats(1e-5)
        XCTAssertTrue(check.agrees(tolerance: 1e-5), "15 times the floor")
        XCTAssertFalse(check.agrees(tolerance: 0), "a tolerance of 0 forgives nothing")
        check.referenceError = stats(1.7e-4)
        XCTAssertFalse(check.agrees(tolerance: 1e-5), "17 times the floor")
        check.referenceError = try! ErrorStatistics(reference: Tensor(shape: [1], floats: [1]), candidate: Tensor(shape: [1], floats: [.nan]))
        XCTAssertEqual(check.referenceError?.maxAbs, .infinity)
        XCTAssertFalse(check.agrees(tolerance: 1e-5))
        let fallback = FoldCheck(batchNorm: "bn", target: "conv", error: stats(2e-6), referenceSkipped: "no reference")
        XCTAssertEqual(fallback.judgedError, stats(2e-6))
        XCTAssertTrue(fallback.agrees(tolerance: 1e-5))
        XCTAssertFalse(fallback.agrees(tolerance: 1e-6))
    }

    /// A layer the reference does not compute (an UpSampling between the conv and its BN, which
    /// commutes with the BN's per-channel map): the check still runs, compares the float32 runs, and
    /// says why there is no float64 reference.
    func testALayerTheReferenceLacksFallsBackToTheFloat32ComparisonAndSaysSo() throws {
        var rng = FoldTestModels.Random(state: 5)
        let conv = Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 3, kernelSize: [3, 3], padding: .same)),
                        inputs: ["input"], outputs: ["c"], weights: [FoldTestModels.weight(.kernel, [3, 3, 2, 3], .hwio, &rng)])
        let up = Node(name: "up", op: .upsample(size: [2, 2], interpolation: "nearest", layout: .channelsLast), inputs: ["c"], outputs: ["p"])
        var model = FoldTestModels.chain(producer: conv, bn: BatchNorm(epsilon: 1e-3, axis: -1), bnWeights: FoldTestModels.bnWeights(3, &rng), rank: 4)
        model.nodes.insert(up, at: 2)
        model.values["input"]?.shape = [nil, 6, 6, 2]
        // The candidate: the BN folded into the conv by the fold pass (on the model without the UpSampling).
        var plain = FoldTestModels.chain(producer: Node(name: "conv", op: conv.op, inputs: ["input"], outputs: ["p"], weights: conv.weights),
                                         bn: BatchNorm(epsilon: 1e-3, axis: -1), bnWeights: model.node(named: "bn")!.weights, rank: 4)
        plain.values["input"]?.shape = [nil, 6, 6, 2]
        let foldedConv = try XCTUnwrap(try FoldBatchNorm().apply(to: plain).model.node(named: "conv"))
        var candidate = model
        candidate.nodes.removeAll { $0.name == "bn" }
        candidate.nodes[candidate.nodeIndex(named: "conv")!] = Node(name: "conv", op: foldedConv.op, inputs: ["input"], outputs: ["c"], weights: foldedConv.weights)
        candidate.outputs = ["p"]
        let check = try XCTUnwrap(FoldChecker.check([FoldToCheck(batchNorm: "bn", target: "conv", intoProducer: true)],
                                                    reference: model, candidate: candidate).first)
        XCTAssertNil(check.skipped)
        XCTAssertNil(check.referenceError)
        XCTAssertNil(check.noiseFloor)
        let reason = try XCTUnwrap(check.referenceSkipped)
        XCTAssertTrue(reason.contains("up (UpSampling)"), reason)
        XCTAssertLessThan(try XCTUnwrap(check.error).maxRel, 1e-5)
        XCTAssertTrue(check.agrees(tolerance: 1e-5))
    }

    /// Where the layers alone cannot be taken out of the model (here a BN whose output feeds a
    /// second layer too, so nothing links it to the named layer alone) but the whole-model run
    /// compared the fold's value, that comparison stands in, and the check says why.
    func testTheWholeModelComparisonStandsInWhereTheLayersAloneCannotRun() throws {
        var rng = FoldTestModels.Random(state: 9)
        let input = Node(name: "input", op: .input, inputs: [], outputs: ["input"])
        let bn = Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: -1)), inputs: ["input"], outputs: ["b"],
                      weights: FoldTestModels.bnWeights(6, &rng))
        let dense = Node(name: "dense", op: .dense(Dense(units: 4)), inputs: ["b"], outputs: ["d"],
                         weights: [FoldTestModels.weight(.kernel, [6, 4], .io, &rng), FoldTestModels.weight(.bias, [4], .vector, &rng)])
        let relu = Node(name: "relu", op: .activation(.relu()), inputs: ["b"], outputs: ["r"])
        var values: [String: ValueInfo] = [:]
        for v in ["input", "b", "d", "r"] { values[v] = ValueInfo(name: v, shape: [nil, v == "d" ? 4 : 6]) }
        let model = Model(name: "t", format: .keras2H5, inputs: ["input"], outputs: ["d", "r"], nodes: [input, bn, dense, relu], values: values)
        let fold = FoldToCheck(batchNorm: "bn", target: "dense", intoProducer: false)
        XCTAssertNotNil(FoldChecker.check([fold], reference: model, candidate: model)[0].skipped, "the layers alone ran")
        let report = try Verifier().compare(reference: model, candidate: model)
        let check = try XCTUnwrap(FoldChecker.check([fold], reference: model, candidate: model, within: report, foldMap: nil).first)
        XCTAssertTrue(check.inModel)
        XCTAssertEqual(check.error?.maxAbs, 0)
        XCTAssertTrue(check.referenceSkipped?.contains("could not run") ?? false, "\(String(describing: check.referenceSkipped))")
    }

    /// A model that declares no shape for the layers' input, or leaves its channels open (ONNX
    /// exports after a Reshape or a Concat): the check takes the rank, layout and channel count
    /// from the layer's own kernel, and runs.
    func testAnUndeclaredInputShapeComesFromTheLayersKernel() throws {
        var rng = FoldTestModels.Random(state: 31)
        let conv = Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 5, kernelSize: [3, 3], padding: .same, groups: 2, layout: .channelsFirst)),
                        inputs: ["input"], outputs: ["p"], weights: [FoldTestModels.weight(.kernel, [5 * 2, 3, 3, 3], .oihw, &rng)])
        for declared in [nil, [nil, nil, 7, 7]] as [[Int?]?] {
            var model = FoldTestModels.chain(producer: conv, bn: BatchNorm(epsilon: 1e-3, axis: 1), bnWeights: FoldTestModels.bnWeights(10, &rng), rank: 4)
            model.nodes[1].op = .conv(Convolution(rank: 2, filters: 10, kernelSize: [3, 3], padding: .same, groups: 2, layout: .channelsFirst))
            for v in ["input", "p", "bn"] { model.values[v] = ValueInfo(name: v, shape: v == "input" ? declared : nil, layout: .channelsFirst) }
            let folded = try FoldBatchNorm().apply(to: model)
            let check = try XCTUnwrap(FoldChecker.check(checks(model, folded), reference: model, candidate: folded.model).first)
            XCTAssertNil(check.skipped, "\(String(describing: declared)): \(check.skipped ?? "")")
            XCTAssertNotNil(check.referenceError, "\(String(describing: declared)): \(check.referenceSkipped ?? "")")
            XCTAssertTrue(check.agrees(tolerance: 1e-5))
        }
    }

    /// Wide layers are checked on smaller inputs, never smaller than their window: a 3x3 conv of
    /// 512 to 512 channels (2.4 million multiply-adds a position) at 3x3, a 7x7 stem of 3 to 64
    /// channels at the full 8x8, a 1x1 conv of 1024 to 1024 at 2x2, and one too wide even for 1x1 at 1x1.
    func testWideLayersAreCheckedOnSmallerInputsNotBelowTheirWindow() {
        func conv(_ k: Int, _ cin: Int, _ cout: Int) -> Node {
            Node(name: "c", op: .conv(Convolution(rank: 2, filters: cout, kernelSize: [k, k])), inputs: ["x"], outputs: ["y"],
                 weights: [Weight(role: .kernel, tensor: Tensor(dtype: .float32, shape: [k, k, cin, cout], source: CountingTensorSource(failing: CocoaError(.fileReadUnknown))), layout: .hwio, storageKey: "k")])
        }
        XCTAssertEqual(FoldChecker.spatialCap(of: [conv(3, 512, 512)], rank: 2), [3, 3])
        XCTAssertEqual(FoldChecker.spatialCap(of: [conv(7, 3, 64)], rank: 2), [8, 8])
        XCTAssertEqual(FoldChecker.spatialCap(of: [conv(1, 1024, 1024)], rank: 2), [2, 2])
        XCTAssertEqual(FoldChecker.spatialCap(of: [conv(1, 8192, 8192)], rank: 2), [1, 1])
        XCTAssertEqual(FoldChecker.spatialCap(of: [conv(5, 1024, 1024)], rank: 2), [5, 5], "not below the window")
    }

    /// The new fields travel in JSON (absent ones are left out), and a report written before them reads.
    func testFoldCheckJSONCarriesTheReferenceAndReadsOlderChecks() throws {
        let stats = Self.stats(1e-7)
        var check = FoldCheck(batchNorm: "bn", target: "conv", error: stats)
        check.referenceError = stats
        check.noiseFloor = stats
        let json = try XCTUnwrap(String(data: try JSONEncoder().encode(check), encoding: .utf8))
        XCTAssertTrue(json.contains("\"referenceError\"") && json.contains("\"noiseFloor\""), json)
        XCTAssertFalse(json.contains("referenceSkipped"), json)
        let back = try JSONDecoder().decode(FoldCheck.self, from: Data(json.utf8))
        XCTAssertEqual(back.noiseFloor, stats)
        let older = #"{"batchNorm":"bn","target":"conv","inModel":false,"error":{"maxAbs":1e-7,"maxRel":1e-7,"cosine":1,"referenceMax":1}}"#
        let read = try JSONDecoder().decode(FoldCheck.self, from: Data(older.utf8))
        XCTAssertNil(read.referenceError)
        XCTAssertTrue(read.agrees(tolerance: 1e-5))
    }

    /// Error statistics of `maxAbs` against a reference whose range is 1.
    private static func stats(_ maxAbs: Double) -> ErrorStatistics {
        let json = #"{"maxAbs":\#(maxAbs),"maxRel":\#(maxAbs),"cosine":1,"referenceMax":1}"#
        return try! JSONDecoder().decode(ErrorStatistics.self, from: Data(json.utf8))
    }
}
