@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvCalibration
@testable import BNConvPipeline
@testable import BNConvTestSupport
import XCTest

final class DenseKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["dense_"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }
}
