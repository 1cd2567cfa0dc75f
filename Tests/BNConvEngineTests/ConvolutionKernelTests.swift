@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class ConvolutionKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["conv1d_", "conv2d_", "conv3d_"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }

    func testONNXStyleWeightsAndExplicitPaddingGiveTheSameAnswer() throws {
        let names = try ["conv1d_", "conv2d_", "conv3d_"].flatMap { try KernelCase.names($0) }
        for name in names { try KernelCase(name).checkONNXStyle() }
    }

    func testGroupedONNXCaseMatchesOnnxruntime() throws {
        try ONNXKernelCase("conv_group2_pads").check()
    }
}
