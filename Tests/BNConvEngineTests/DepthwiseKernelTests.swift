@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class DepthwiseKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["depthwise_"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }

    func testONNXStyleWeightsAndExplicitPaddingGiveTheSameAnswer() throws {
        let names = try ["depthwise_"].flatMap { try KernelCase.names($0) }
        for name in names { try KernelCase(name).checkONNXStyle() }
    }
}
