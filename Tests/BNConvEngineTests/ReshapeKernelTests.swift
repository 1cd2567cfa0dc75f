@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class ReshapeKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["reshape", "flatten"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }
}
