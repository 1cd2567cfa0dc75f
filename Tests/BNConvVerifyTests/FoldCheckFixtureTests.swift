@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The fold checks' measure (``FoldCheck/agrees(tolerance:)``) over every fold of every fixture model
/// (Keras, ONNX, GraphDef, TensorFlow checkpoints and SavedModels, and the other families): each
/// correct fold passes against its float64 reference, and the same folds done wrongly fail: a
/// dropped epsilon, a skipped gamma, and the scale applied along the kernel's input-channel axis
/// instead of its output-channel axis (the wrong folds are made by the fold pass from corrupted
/// statistics, or by rescaling a folded kernel, in the test).
final class FoldCheckFixtureTests: XCTestCase {
    /// One fixture model, folded.
    private struct Folded {
        let path: String
        let model: Model
        let result: FoldBatchNorm.Result
        /// The folds, as the pipeline checks them.
        let folds: [FoldToCheck]
        /// The tolerance verification uses (float16 and bfloat16 weights: their epsilon).
        let tolerance: Double

        /// The fixture family, and whether its weights are stored in a half type.
        var family: String {
            String(path.prefix { $0 != "/" }) + (tolerance > DefaultTolerance.baseline ? " (half)" : "")
        }
    }

    /// Every fixture model with at least one fold.
    private func foldedFixtures() throws -> [Folded] {
        var out: [Folded] = []
        for (path, config) in try FixtureModelFiles.all() {
            guard let model = try? Checkpoint.read(FixturePaths.url(path).path, config: config), !model.batchNormIndices.isEmpty else { continue }
            let result = try FoldBatchNorm().apply(to: model)
            let folds = result.decisions.compactMap { d in
                d.target.map { FoldToCheck(batchNorm: d.batchNorm, target: $0, intoProducer: d.direction != .intoConsumer) }
            }
            guard !folds.isEmpty else { continue }
            out.append(Folded(path: path, model: model, result: result, folds: folds,
                              tolerance: DefaultTolerance.forCandidate(result.model).tolerance))
        }
        return out
    }

    /// Every correct fold of every fixture checks on its own against a float64 reference (none
    /// falls back) and agrees at the tolerance verification uses.
    func testEveryCorrectFoldOfEveryFixtureAgreesWithItsFloat64Reference() throws {
        var figures: [String: (folds: Int, error: Double, floor: Double, ratio: Double)] = [:]
        for f in try foldedFixtures() {
            for check in FoldChecker.check(f.folds, reference: f.model, candidate: f.result.model) {
                let name = "\(f.path) \(check.batchNorm)"
                XCTAssertNil(check.skipped, "\(name): \(check.skipped ?? "")")
                XCTAssertNil(check.referenceSkipped, "\(name): \(check.referenceSkipped ?? "")")
                XCTAssertTrue(check.agrees(tolerance: f.tolerance), "\(name): \(String(describing: check.referenceError)) floor \(String(describing: check.noiseFloor))")
                guard let error = check.referenceError, let floor = check.noiseFloor else { continue }
                var row = figures[f.family] ?? (0, 0, 0, 0)
                row.folds += 1
                row.error = max(row.error, error.maxRel)
                row.floor = max(row.floor, floor.maxRel)
                if f.tolerance == DefaultTolerance.baseline, floor.maxAbs > 0 { row.ratio = max(row.ratio, error.maxAbs / floor.maxAbs) }
                figures[f.family] = row
            }
        }
        for family in ["keras", "onnx", "tensorflow", "tf_checkpoint", "tf_savedmodel", "keras (half)", "onnx (half)", "tensorflow (half)"] {
            XCTAssertGreaterThan(figures[family]?.folds ?? 0, 0, "no fold of \(family) checked")
        }
        XCTAssertGreaterThanOrEqual(figures.values.map(\.folds).reduce(0, +), 300)
        for (family, row) in figures.sorted(by: { $0.key < $1.key }) {
            print("correct folds, \(family): \(row.folds) folds; largest max rel against float64 \(row.error), largest float32 noise floor \(row.floor), largest error / floor (max abs, float32 files) \(row.ratio)")
        }
    }

    /// A wrong fold's candidate: the fold pass run on the model with each BatchNorm changed by `corrupt`.
    private func refolded(_ model: Model, _ corrupt: (inout BatchNorm) -> Void) throws -> Model {
        var wrong = model
        for i in wrong.batchNormIndices {
            guard case .batchNorm(var bn) = wrong.nodes[i].op else { continue }
            corrupt(&bn)
            wrong.nodes[i].op = .batchNorm(bn)
        }
        return try FoldBatchNorm().apply(to: wrong).model
    }

    /// The correct fold with the kernels of folds into a producer whose kernel has as many input as
    /// output channels scaled along the input-channel axis instead (the bias stays right); the folds changed.
    private func scaledAlongInputs(_ f: Folded) throws -> (Model, Set<String>) {
        var candidate = f.result.model
        var changed: Set<String> = []
        for fold in f.folds where fold.intoProducer {
            guard let bnNode = f.model.node(named: fold.batchNorm), case .batchNorm(let bn) = bnNode.op,
                  let original = f.model.node(named: fold.target), let t = candidate.nodeIndex(named: fold.target) else { continue }
            let role: WeightRole
            switch original.op {
            case .conv(let c) where c.groups == 1: role = .kernel
            case .dense: role = .kernel
            default: continue
            }
            guard let kernel = original.weight(role), let folded = candidate.nodes[t].weight(role),
                  let view = ChannelView.input(of: kernel.layout, shape: kernel.tensor.shape) else { continue }
            let scale = try BatchNormAffine(node: bnNode, attributes: bn).scale
            guard view.totalChannels == scale.count, Set(scale).count > 1 else { continue }
            var wrong = folded
            wrong.tensor = view.scaled(try kernel.tensor.materialized(), by: scale)
            candidate.nodes[t].setWeight(wrong)
            changed.insert(fold.batchNorm)
        }
        return (candidate, changed)
    }

    /// Every fold of every fixture done wrongly in three ways: each wrong fold that moves its
    /// layers' output beyond the tolerance (against the float64 reference) fails, however much
    /// float32 noise the original layers have; a skipped gamma and a wrong axis always do.
    func testWrongFoldsOfEveryFixtureFail() throws {
        var figures: [String: (folds: Int, failed: Int, smallest: Double, ratio: Double, which: String)] = [:]
        for f in try foldedFixtures() {
            let dropped = try refolded(f.model) { $0.epsilon = 0 }
            let noGamma = try refolded(f.model) { $0.scale = false }
            let (wrongAxis, rescaled) = try scaledAlongInputs(f)
            let kinds: [(String, Model, (FoldToCheck) -> Bool)] = [
                ("dropped epsilon", dropped, { _ in true }),
                ("skipped gamma", noGamma, { fold in
                    guard case .batchNorm(let bn)? = f.model.node(named: fold.batchNorm)?.op else { return false }
                    return bn.scale
                }),
                ("wrong axis", wrongAxis, { rescaled.contains($0.batchNorm) }),
            ]
            for (kind, candidate, applies) in kinds {
                let folds = f.folds.filter(applies)
                for check in FoldChecker.check(folds, reference: f.model, candidate: candidate) {
                    let name = "\(kind): \(f.path) \(check.batchNorm)"
                    XCTAssertNil(check.referenceSkipped, "\(name): \(check.referenceSkipped ?? "")")
                    guard let error = check.referenceError, let floor = check.noiseFloor else { continue }
                    let fails = !check.agrees(tolerance: f.tolerance)
                    if kind != "dropped epsilon" {
                        XCTAssertTrue(fails, "\(name) passes: \(error) floor \(floor)")
                    }
                    // A dropped epsilon changes a BN by about epsilon / (2 variance): below the
                    // tolerance for a small epsilon, which no range measure at that tolerance sees.
                    if error.maxRel >= 2 * f.tolerance {
                        XCTAssertTrue(fails, "\(name) passes: \(error) floor \(floor)")
                    }
                    let key = "\(kind), \(f.family)"
                    var row = figures[key] ?? (0, 0, .infinity, .infinity, "")
                    row.folds += 1
                    if fails {
                        row.failed += 1
                        if error.maxRel < row.smallest { row.which = "\(f.path) \(check.batchNorm)" }
                        row.smallest = min(row.smallest, error.maxRel)
                        if floor.maxAbs > 0 { row.ratio = min(row.ratio, error.maxAbs / floor.maxAbs) }
                    }
                    figures[key] = row
                }
            }
        }
        for kind in ["dropped epsilon, keras", "skipped gamma, keras", "wrong axis, keras", "skipped gamma, onnx (half)",
                     "skipped gamma, tensorflow (half)", "wrong axis, onnx", "skipped gamma, tf_checkpoint", "skipped gamma, tf_savedmodel"] {
            XCTAssertGreaterThan(figures[kind]?.failed ?? 0, 0, "no wrong fold of kind \(kind) failed")
        }
        for (key, row) in figures.sorted(by: { $0.key < $1.key }) {
            print("wrong folds, \(key): \(row.failed) of \(row.folds) fail; smallest max rel of a failing one \(row.smallest) (\(row.which)), smallest error / floor (max abs) \(row.ratio)")
        }
    }
}
