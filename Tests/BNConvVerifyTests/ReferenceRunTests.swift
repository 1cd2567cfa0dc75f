@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The reference run beside the candidate's (``ReferenceRun``): the same report as the two runs
/// taking turns on one thread, whatever it may hold for the candidate, and no wait for ever when
/// the candidate fails half way.
final class ReferenceRunTests: XCTestCase {
    /// Every Keras 2 fixture, folded: the report of runs side by side (with room for no values held,
    /// and with the default room) is the report of runs in turns.
    func testRunsSideBySideReportWhatRunsInTurnsReport() throws {
        var checked = 0
        for fixture in try KerasFixtureCase.all() {
            let path = fixture.directory.appendingPathComponent("keras2.h5").path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let original = try Checkpoint.read(path, deferringWeights: 0)
            let folded = try FoldBatchNorm().apply(to: original)
            var options = Verifier.Options(randomRuns: 2)
            options.runsModelsAtOnce = false
            let inTurns = try Verifier(options: options).compare(reference: original, candidate: folded.model, foldMap: folded.valueMap)
            options.runsModelsAtOnce = true
            for held in [0, options.heldReferenceBytes] {
                options.heldReferenceBytes = held
                let beside = try Verifier(options: options).compare(reference: original, candidate: folded.model, foldMap: folded.valueMap)
                let label = "\(fixture.name), \(held) bytes held"
                XCTAssertEqual(beside.passed, inTurns.passed, label)
                XCTAssertEqual(beside.runs, 2, label)
                XCTAssertEqual(beside.layers.map(\.node), inTurns.layers.map(\.node), label)
                XCTAssertEqual(beside.firstDivergence?.node, inTurns.firstDivergence?.node, label)
                for (a, b) in zip(beside.layers, inTurns.layers) {
                    XCTAssertEqual(a.error.maxRel, b.error.maxRel, accuracy: 1e-6, "\(label): \(a.node)")
                }
                for (a, b) in zip(beside.outputs, inTurns.outputs) {
                    XCTAssertEqual(a.error.maxRel, b.error.maxRel, accuracy: 1e-6, label)
                    XCTAssertEqual(a.error.referenceMax, b.error.referenceMax, accuracy: 1e-5 * max(1, b.error.referenceMax), label)
                }
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 10)
    }

    /// A candidate that fails half way (a reshape its value cannot take) ends the verification with
    /// its node's error, and the reference's thread with it, in either mode.
    func testACandidateFailingHalfWayStopsTheReference() throws {
        var rng = FoldTestModels.Random(state: 3)
        let dense = Node(name: "fc", op: .dense(Dense(units: 10)), inputs: ["input"], outputs: ["h"],
                         weights: [FoldTestModels.weight(.kernel, [6, 10], .io, &rng), FoldTestModels.weight(.bias, [10], .vector, &rng)])
        func model(_ last: Op) -> Model {
            let input = Node(name: "input", op: .input, inputs: [], outputs: ["input"])
            let tail = Node(name: "tail", op: last, inputs: ["h"], outputs: ["y"])
            var values: [String: ValueInfo] = [:]
            for v in ["input", "h", "y"] { values[v] = ValueInfo(name: v, shape: [nil, nil], layout: .channelsLast) }
            values["input"] = ValueInfo(name: "input", shape: [nil, 6], layout: .channelsLast)
            return Model(name: "t", format: .keras2H5, inputs: ["input"], outputs: ["y"], nodes: [input, dense, tail], values: values)
        }
        let reference = model(.identity), candidate = model(.reshape(targetShape: [-1, 7]))
        for atOnce in [true, false] {
            var options = Verifier.Options()
            options.runsModelsAtOnce = atOnce
            XCTAssertThrowsError(try Verifier(options: options).compare(reference: reference, candidate: candidate)) { error in
                guard case EngineError.nodeFailed(let node, _, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(node, "tail")
            }
            // The runners are free again: the reference verifies against itself.
            XCTAssertTrue(try Verifier(options: options).compare(reference: reference, candidate: reference).passed)
        }
    }
}
