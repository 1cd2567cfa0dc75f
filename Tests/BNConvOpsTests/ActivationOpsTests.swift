import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// Edge cases and refusals of the activation ops (values are proven by the ONNX conformance
/// suite; these pin shapes, dtypes, exact facts and errors).
final class ActivationOpsTests: XCTestCase {
    /// Runs `op` (opset `opset`, attributes `attributes`) on `inputs`, returning its first output.
    private func run(_ op: String, _ inputs: [HostTensor?], opset: Int = 17,
                     _ attributes: [String: OpAttribute] = [:]) throws -> HostTensor {
        let build = try XCTUnwrap(ActivationOps.builders[op], "no builder for \(op)")
        return try build(OpAttributes(op: op, opset: opset, values: attributes)).run(inputs)[0]
    }

    /// Asserts that `body` throws an ``OpError``.
    private func assertOpError(_ body: @autoclosure () throws -> HostTensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { XCTAssertTrue($0 is OpError, "\($0)", file: file, line: line) }
    }

    /// Relu runs on integers; the other activations refuse them.
    func testReluRunsOnIntegersOtherActivationsDoNot() throws {
        let y = try run("Relu", [HostTensor(dtype: .int8, shape: [3], storage: .int([-5, 0, 7]))], opset: 14)
        XCTAssertEqual(y.dtype, .int8)
        XCTAssertEqual(y.storage.integers, [0, 0, 7])
        assertOpError(try run("LeakyRelu", [HostTensor(shape: [1], integers: [-1])]))
        assertOpError(try run("Sigmoid", [HostTensor(dtype: .bool, shape: [1], storage: .bool([true]))]))
    }

    /// Activations keep shape and narrow type.
    func testActivationsKeepShapeAndNarrowType() throws {
        let x = HostTensor(dtype: .float16, shape: [2, 2], storage: .float([-1, 0, 1, 2]))
        for op in ["Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus",
                   "Softsign", "Gelu", "Mish", "Celu", "ThresholdedRelu"] {
            let y = try run(op, [x], opset: 20)
            XCTAssertEqual(y.shape, [2, 2], op)
            XCTAssertEqual(y.dtype, .float16, op)
        }
    }

    /// ThresholdedRelu keeps only values above alpha.
    func testThresholdedReluKeepsOnlyValuesAboveAlpha() throws {
        let y = try run("ThresholdedRelu", [HostTensor(shape: [3], floats: [0.5, 1, 2])])
        XCTAssertEqual(y.floats, [0, 0, 2])
    }

    /// Gelu refuses an unknown approximation.
    func testGeluRefusesAnUnknownApproximation() {
        assertOpError(try run("Gelu", [HostTensor(shape: [1], floats: [1])], opset: 20, ["approximate": .string("erf")]))
    }

    /// PRelu's slope broadcasts only toward the input.
    func testPReluSlopeBroadcastsOnlyTowardTheInput() throws {
        let y = try run("PRelu", [HostTensor(shape: [2, 2], floats: [-1, 2, -3, 4]), HostTensor(shape: [2], floats: [0.5, 0.25])])
        XCTAssertEqual(y.floats, [-0.5, 2, -1.5, 4])
        assertOpError(try run("PRelu", [HostTensor(shape: [2, 1], floats: [-1, 2]), HostTensor(shape: [3], floats: [1, 1, 1])]))
        assertOpError(try run("PRelu", [HostTensor(shape: [1], floats: [-1]), HostTensor(shape: [1], integers: [1])]))
    }

    /// Clip bounds from inputs and attributes.
    func testClipBoundsFromInputsAndAttributes() throws {
        let x = HostTensor(shape: [4], floats: [-10, 0.5, 10, .infinity])
        let y = try run("Clip", [x, HostTensor(shape: [], floats: [0]), nil], opset: 13)
        XCTAssertEqual(y.floats, [0, 0.5, 10, .infinity])
        let old = try run("Clip", [x], opset: 6, ["min": .float(0)])
        XCTAssertEqual(old.floats, [0, 0.5, 10, .greatestFiniteMagnitude])
        // min above max: every element is max.
        let swapped = try run("Clip", [x, HostTensor(shape: [], floats: [5]), HostTensor(shape: [], floats: [1])], opset: 13)
        XCTAssertEqual(swapped.floats, [1, 1, 1, 1])
        assertOpError(try run("Clip", [x, HostTensor(shape: [2], floats: [0, 1])], opset: 13))
    }

    /// Clip on integers uses exact bounds.
    func testClipOnIntegersUsesExactBounds() throws {
        let x = HostTensor(shape: [3], integers: [.min, 0, .max])
        let y = try run("Clip", [x, HostTensor(shape: [], integers: [.min + 1]), HostTensor(shape: [], integers: [.max - 1])], opset: 13)
        XCTAssertEqual(y.storage.integers, [.min + 1, 0, .max - 1])
        assertOpError(try run("Clip", [HostTensor(dtype: .bool, shape: [1], storage: .bool([true]))], opset: 13))
    }
}
