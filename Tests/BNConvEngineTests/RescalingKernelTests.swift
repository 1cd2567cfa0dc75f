@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class RescalingKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["rescaling"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }
}
