import Foundation
import XCTest
@testable import BNConvTestSupport

/// Inputs that are not regular files (a FIFO would block for ever, `/dev/zero` never ends) are
/// refused at once with status 1 and one line naming the path, unless `--allow-special`.
final class SpecialFileInputCLITests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testAFIFOModelIsRefusedWithoutBlocking() throws {
        let fifo = try scratch().appendingPathComponent("model.h5")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        for command in [["inspect", fifo.path], ["fold", fifo.path, "-o", fifo.path + ".out.h5"], ["run", fifo.path]] {
            let result = try CLIRunner.run(command, timeout: 20)
            XCTAssertFalse(result.timedOut, "\(command[0]) blocked on the FIFO")
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertEqual(result.stderr, "bnconv: error: \(fifo.path): is a FIFO, not a regular file (--allow-special reads it anyway)\n")
        }
    }

    func testALinkToADeviceIsRefusedAndAllowSpecialLetsItThrough() throws {
        let link = try scratch().appendingPathComponent("zero.npy")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/dev/null")
        let model = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let refused = try CLIRunner.run(["run", model, "--input", link.path], timeout: 20)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("\(link.path): is a character device, not a regular file"), refused.stderr)
        // Allowed, the device is read: /dev/null holds no .npy header, which is the next error.
        let allowed = try CLIRunner.run(["run", model, "--input", link.path, "--allow-special"], timeout: 20)
        XCTAssertEqual(allowed.status, 1, allowed.stderr)
        XCTAssertFalse(allowed.stderr.contains("not a regular file"), allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains(link.path), allowed.stderr)
    }
}
