@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class PermuteKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["permute_"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }
}
