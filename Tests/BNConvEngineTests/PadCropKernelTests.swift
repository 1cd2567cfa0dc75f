@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class PadCropKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["zeropad", "crop"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }
}
