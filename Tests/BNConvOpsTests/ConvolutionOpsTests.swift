import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// Conv and ConvTranspose: output shapes of the window forms, simple exact sums, refusals.
final class ConvolutionOpsTests: XCTestCase {
    /// Runs `op` with `attributes` on `inputs`.
    private func run(_ op: String, _ attributes: [String: OpAttribute], _ inputs: [HostTensor?], opset: Int = 19) throws -> [HostTensor] {
        let build = try XCTUnwrap(OpLibrary.builders[op])
        return try build(OpAttributes(op: op, opset: opset, values: attributes)).run(inputs)
    }

    /// A float32 tensor of `shape` filled with `value`.
    private func filled(_ shape: [Int], _ value: Double = 1) -> HostTensor { .filled(value, dtype: .float32, shape: shape) }

    /// Asserts the call throws an ``OpError``.
    private func assertRefused(_ body: @autoclosure () throws -> [HostTensor], _ line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { XCTAssertTrue($0 is OpError, "\($0)", line: line) }
    }

    func testConvOfOnesCountsTheTapsInsideTheInput() throws {
        let y = try run("Conv", ["pads": .ints([1, 1, 1, 1])], [filled([1, 1, 3, 3]), filled([1, 1, 3, 3]), filled([1], 0.5)])[0]
        XCTAssertEqual(y.shape, [1, 1, 3, 3])
        XCTAssertEqual(y.floats, [4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5])
    }

    func testConvOutputShapesOfTheWindowForms() throws {
        let x = filled([2, 4, 9, 10]), w = filled([6, 2, 3, 3])
        XCTAssertEqual(try run("Conv", ["group": .int(2), "strides": .ints([2, 3])], [x, w])[0].shape, [2, 6, 4, 3])
        XCTAssertEqual(try run("Conv", ["group": .int(2), "dilations": .ints([2, 2]), "pads": .ints([0, 1, 2, 3])], [x, w])[0].shape, [2, 6, 7, 10])
        for autoPad in ["SAME_UPPER", "SAME_LOWER"] {
            XCTAssertEqual(try run("Conv", ["group": .int(2), "auto_pad": .string(autoPad), "strides": .ints([2, 2])], [x, w])[0].shape, [2, 6, 5, 5])
        }
        XCTAssertEqual(try run("Conv", ["group": .int(2), "auto_pad": .string("VALID")], [x, w])[0].shape, [2, 6, 7, 8])
        XCTAssertEqual(try run("Conv", [:], [filled([1, 2, 7]), filled([3, 2, 2])])[0].shape, [1, 3, 6])
        XCTAssertEqual(try run("Conv", [:], [filled([1, 2, 4, 5, 6]), filled([3, 2, 2, 2, 2])])[0].shape, [1, 3, 3, 4, 5])
    }

    func testSameLowerPutsTheOddBorderFirst() throws {
        // A 1-D kernel of 2 ones over [1 2 3]: SAME_UPPER pads at the end, SAME_LOWER at the start.
        let x = HostTensor(shape: [1, 1, 3], floats: [1, 2, 3]), w = filled([1, 1, 2])
        XCTAssertEqual(try run("Conv", ["auto_pad": .string("SAME_UPPER")], [x, w])[0].floats, [3, 5, 3])
        XCTAssertEqual(try run("Conv", ["auto_pad": .string("SAME_LOWER")], [x, w])[0].floats, [1, 3, 5])
    }

    func testConvKeepsFloat64AndFloat16() throws {
        for dtype in [DType.float64, .float16] {
            let y = try run("Conv", [:], [.filled(1, dtype: dtype, shape: [1, 1, 2, 2]), .filled(2, dtype: dtype, shape: [1, 1, 2, 2])])[0]
            XCTAssertEqual(y.dtype, dtype)
            XCTAssertEqual(y.storage.doubles, [8])
        }
    }

    func testConvRefusesOperandsThatDoNotFit() {
        let x = filled([1, 4, 5, 5])
        assertRefused(try self.run("Conv", [:], [x, self.filled([2, 3, 3, 3])]))  // channels 3 != 4
        assertRefused(try self.run("Conv", ["group": .int(3)], [x, self.filled([3, 1, 3, 3])]))  // 1 × 3 != 4
        assertRefused(try self.run("Conv", ["group": .int(0)], [x, self.filled([2, 4, 3, 3])]))
        assertRefused(try self.run("Conv", [:], [x, self.filled([2, 4, 3, 3]), self.filled([3])]))  // bias count
        assertRefused(try self.run("Conv", ["kernel_shape": .ints([2, 2])], [x, self.filled([2, 4, 3, 3])]))
        assertRefused(try self.run("Conv", [:], [x, self.filled([2, 4, 7, 7])]))  // window larger than the input
        assertRefused(try self.run("Conv", ["pads": .ints([1, 1])], [x, self.filled([2, 4, 3, 3])]))
        assertRefused(try self.run("Conv", ["pads": .ints([-1, 0, 0, 0])], [x, self.filled([2, 4, 3, 3])]))
        assertRefused(try self.run("Conv", ["strides": .ints([0, 1])], [x, self.filled([2, 4, 3, 3])]))
        assertRefused(try self.run("Conv", ["auto_pad": .string("SAME")], [x, self.filled([2, 4, 3, 3])]))
        assertRefused(try self.run("Conv", [:], [x, .filled(1, dtype: .float64, shape: [2, 4, 3, 3])]))
        assertRefused(try self.run("Conv", [:], [.filled(1, dtype: .int32, shape: [1, 4, 5, 5]), .filled(1, dtype: .int32, shape: [2, 4, 3, 3])]))
        assertRefused(try self.run("Conv", [:], [self.filled([1, 1, 2, 2, 2, 2]), self.filled([1, 1, 1, 1, 1, 1])]))  // 4 spatial axes
        assertRefused(try self.run("Conv", [:], [x]))  // W missing
        assertRefused(try self.run("Conv", [:], [self.filled([4, 5]), self.filled([2, 4])]))
    }

    func testConvTransposeOutputShapes() throws {
        let x = filled([1, 4, 3, 4]), w = filled([4, 2, 3, 3])
        XCTAssertEqual(try run("ConvTranspose", [:], [x, w])[0].shape, [1, 2, 5, 6])
        XCTAssertEqual(try run("ConvTranspose", ["group": .int(2)], [x, w])[0].shape, [1, 4, 5, 6])
        XCTAssertEqual(try run("ConvTranspose", ["strides": .ints([2, 2]), "output_padding": .ints([1, 0]), "pads": .ints([1, 1, 0, 0])], [x, w])[0].shape,
                       [1, 2, 7, 8])
        XCTAssertEqual(try run("ConvTranspose", ["strides": .ints([2, 2]), "auto_pad": .string("SAME_LOWER")], [x, w])[0].shape, [1, 2, 6, 8])
        XCTAssertEqual(try run("ConvTranspose", ["strides": .ints([3, 2]), "output_shape": .ints([10, 9])], [x, w])[0].shape, [1, 2, 10, 9])
        XCTAssertEqual(try run("ConvTranspose", ["strides": .ints([3, 2]), "output_shape": .ints([1, 2, 10, 9])], [x, w])[0].shape, [1, 2, 10, 9])
    }

    func testConvTransposeOfOnesSumsTheOverlaps() throws {
        // Stride 1, kernel 2, over [1 1 1]: each output counts the inputs reaching it.
        let y = try run("ConvTranspose", [:], [filled([1, 1, 3]), filled([1, 1, 2]), filled([1], 1)])[0]
        XCTAssertEqual(y.floats, [2, 3, 3, 2])
    }

    func testConvTransposeRefusesOperandsThatDoNotFit() {
        let x = filled([1, 4, 3, 3])
        assertRefused(try self.run("ConvTranspose", [:], [x, self.filled([3, 2, 3, 3])]))
        assertRefused(try self.run("ConvTranspose", ["group": .int(3)], [x, self.filled([4, 2, 3, 3])]))
        assertRefused(try self.run("ConvTranspose", [:], [x, self.filled([4, 2, 3, 3]), self.filled([3])]))
        assertRefused(try self.run("ConvTranspose", ["output_padding": .ints([1])], [x, self.filled([4, 2, 3, 3])]))
        assertRefused(try self.run("ConvTranspose", ["output_shape": .ints([4])], [x, self.filled([4, 2, 3, 3])]))
        assertRefused(try self.run("ConvTranspose", ["pads": .ints([4, 4, 4, 4])], [x, self.filled([4, 2, 3, 3])]))
        assertRefused(try self.run("ConvTranspose", ["strides": .ints([1 << 40, 1])], [x, self.filled([4, 2, 3, 3])]))
        assertRefused(try self.run("ConvTranspose", ["output_padding": .ints([Int.max, 0])], [x, self.filled([4, 2, 3, 3])]))
        // Sizes from the file are checked before anything is allocated.
        assertRefused(try self.run("ConvTranspose", ["strides": .ints([1 << 24, 1 << 24])], [self.filled([1, 1, 512, 512]), self.filled([1, 1, 1, 1])]))
        assertRefused(try self.run("ConvTranspose", ["output_shape": .ints([1 << 30, 1 << 30])], [x, self.filled([4, 2, 3, 3])]))
    }
}
