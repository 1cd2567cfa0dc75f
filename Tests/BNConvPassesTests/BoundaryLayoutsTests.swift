@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

/// Undeclared input and output layouts are taken from the ops around them.
final class BoundaryLayoutsTests: XCTestCase {
    func testNCHWGraphDefInputAndOutputAreChannelsFirst() throws {
        var model = try Checkpoint.read(FixturePaths.url("tensorflow/nchw/graph.pb").path)
        // Undeclare the boundary layouts (the reader now infers them too) so this pass is what fills them.
        for value in model.inputs + model.outputs { model.values[value]?.layout = nil }
        let annotated = BoundaryLayouts.annotated(model)
        XCTAssertEqual(annotated.values[model.inputs[0]]?.layout, .channelsFirst)
        XCTAssertEqual(annotated.values[model.outputs[0]]?.layout, .channelsFirst)
        XCTAssertTrue(LayoutBoundary(source: annotated, converted: try ConvertLayout(target: .channelsFirst).apply(to: annotated).model).isIdentity)
    }

    func testDeclaredLayoutsAreKept() throws {
        let model = try Checkpoint.read(FixturePaths.url("keras/mini_resnet/keras2.h5").path)
        let annotated = BoundaryLayouts.annotated(model)
        for input in model.inputs { XCTAssertEqual(annotated.values[input]?.layout ?? .channelsLast, .channelsLast) }
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: annotated).model
        XCTAssertEqual(LayoutBoundary(source: annotated, converted: converted).inputs, [[0, 3, 1, 2]])
    }
}
