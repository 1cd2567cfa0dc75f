@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class ConvolutionTransposeKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["conv1dT_", "conv2dT_", "conv3dT_"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }

    func testONNXStyleWeightsAndExplicitPaddingGiveTheSameAnswer() throws {
        let names = try ["conv1dT_", "conv2dT_", "conv3dT_"].flatMap { try KernelCase.names($0) }
        for name in names { try KernelCase(name).checkONNXStyle() }
    }

    func testGroupedONNXCaseMatchesOnnxruntime() throws {
        try ONNXKernelCase("convT_group2").check()
    }
}
