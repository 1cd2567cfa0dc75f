import XCTest
@testable import BNConvTestSupport

final class VersionCommandTests: XCTestCase {
    func testVersionPrintsAndExitsZero() throws {
        let result = try CLIRunner.run(["--version"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
    }
}
