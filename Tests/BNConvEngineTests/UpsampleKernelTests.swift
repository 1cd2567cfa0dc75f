@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class UpsampleKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["upsample_"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }
}
