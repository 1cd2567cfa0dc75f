@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvCalibration
@testable import BNConvPipeline
@testable import BNConvTestSupport
import XCTest

/// ``Verifier`` with boundary permutations: a channels-first conversion of a Keras model, fed the
/// transposed inputs and with its outputs transposed back, matches the source; a wrong permutation fails.
final class VerifierLayoutTests: XCTestCase {
    private func model(_ name: String) throws -> Model {
        try Checkpoint.read(FixturePaths.url("keras/\(name)/keras2.h5").path)
    }

    func testConvertedModelVerifiesWithTheBoundaryPermutations() throws {
        let source = try model("mini_resnet")
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: source).model
        let boundary = LayoutBoundary(source: source, converted: converted)
        XCTAssertEqual(boundary.inputs, [[0, 3, 1, 2]])
        let options = Verifier.Options(randomRuns: 2, inputPermutations: boundary.inputs, outputPermutations: boundary.outputs)
        let report = try Verifier(options: options).compare(reference: source, candidate: converted)
        XCTAssertTrue(report.passed, "worst \(String(describing: report.worst))")
        XCTAssertEqual(report.runs, 2)
    }

    func testSpatialOutputIsTransposedBack() throws {
        let source = try model("conv2d_bias_bn")
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: source).model
        let boundary = LayoutBoundary(source: source, converted: converted)
        XCTAssertEqual(boundary.outputs, [[0, 3, 1, 2]])
        let report = try Verifier(options: .init(inputPermutations: boundary.inputs, outputPermutations: boundary.outputs))
            .compare(reference: source, candidate: converted)
        XCTAssertTrue(report.passed, "worst \(String(describing: report.worst))")
        XCTAssertEqual(report.outputs.first?.shape, try ModelRunner(model: source)
            .run(try RandomInputs.make(for: source, batch: 2, seed: 0)).first?.shape)
    }

    func testWrongPermutationIsCaught() throws {
        let source = try model("conv2d_bias_bn")
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: source).model
        // Swapping H and W of a non-square input either fails to run or gives different numbers.
        let options = Verifier.Options(inputPermutations: [[0, 3, 2, 1]], outputPermutations: [[0, 3, 2, 1]])
        do {
            let report = try Verifier(options: options).compare(reference: source, candidate: converted)
            XCTAssertFalse(report.passed)
        } catch {
            // A shape mismatch is a failure too.
        }
    }
}
