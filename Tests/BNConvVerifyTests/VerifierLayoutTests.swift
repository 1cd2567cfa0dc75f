@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvTestSupport
import XCTest

/// ``Verifier`` with boundary permutations: a channels-first conversion of a Keras model, fed the
/// transposed inputs and with its outputs transposed back, matches the source; a wrong permutation fails
/// the comparison, and one that does not fit the input is an error naming the shapes.
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

    /// The fixture's input is square (8 x 8), so feeding the channels-first model its input with H and W
    /// swapped runs, and only the numbers can tell: the report fails, by far more than the tolerance.
    func testWrongPermutationIsCaught() throws {
        let source = try model("conv2d_bias_bn")
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: source).model
        XCTAssertEqual(source.values["input"]?.shape, [nil, 8, 8, 3], "the case needs a square input")
        let options = Verifier.Options(inputPermutations: [[0, 3, 2, 1]], outputPermutations: [[0, 3, 2, 1]])
        let report = try Verifier(options: options).compare(reference: source, candidate: converted)
        XCTAssertFalse(report.passed)
        let worst = try XCTUnwrap(report.worst)
        XCTAssertGreaterThan(worst.maxRel, 1000 * report.tolerance, "\(worst)")
        XCTAssertLessThan(worst.cosine, 0.99, "\(worst)")
    }

    /// No permutation at all (channels-last data for a channels-first model) does not fit the converted
    /// model's declared input, and the engine says so naming the input and both shapes.
    func testMissingPermutationIsAnInputShapeError() throws {
        let source = try model("conv2d_bias_bn")
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: source).model
        let options = Verifier.Options(inputPermutations: [[0, 1, 2, 3]], outputPermutations: [[0, 3, 1, 2]])
        XCTAssertThrowsError(try Verifier(options: options).compare(reference: source, candidate: converted)) { error in
            XCTAssertEqual(error as? EngineError, .inputShape(name: "input", declared: [nil, 3, 8, 8], got: [2, 8, 8, 3]))
            XCTAssertEqual("\(error)", "input 'input' has shape [2, 8, 8, 3], the model declares (?, 3, 8, 8)")
        }
    }

    /// A permutation of the wrong rank is refused before anything runs.
    func testPermutationOfTheWrongRankIsRefused() throws {
        let source = try model("conv2d_bias_bn")
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: source).model
        let options = Verifier.Options(inputPermutations: [[0, 2, 1]], outputPermutations: [[0, 3, 1, 2]])
        XCTAssertThrowsError(try Verifier(options: options).compare(reference: source, candidate: converted)) { error in
            XCTAssertEqual(error as? TensorError, .invalidPermutation([0, 2, 1], rank: 4))
            XCTAssertEqual("\(error)", "permutation [0, 2, 1] does not reorder 4 axes")
        }
    }
}
