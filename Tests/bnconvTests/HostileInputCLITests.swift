import Foundation
import XCTest
@testable import BNConvTestSupport

/// Inputs that make libhdf5 loop or crash inside the library: the CLI ends them with status 1 and
/// one message naming the file (Tests/Fixtures/robustness/cli).
final class HostileInputCLITests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/robustness/cli")

    func testReadWatchdogEndsAnHDF5Loop() throws {
        let path = Self.fixtures.appendingPathComponent("hdf5-global-heap-loop.h5").path
        let never = { (ext: String) in FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID().uuidString).\(ext)").path }
        let data = FixturePaths.url("keras/mini_resnet/calib.npy").path
        for command in [["inspect", path], ["fold", path, "-o", never("h5")], ["convert", path, "-o", never("onnx")],
                        ["convert", path, "--layout", "nchw", "-o", never("h5")], ["recalibrate", path, "--data", data, "-o", never("h5")],
                        ["run", path]] {
            let started = Date()
            let result = try CLIRunner.run(command, timeout: 60, environment: ["BNCONV_READ_TIMEOUT": "2"])
            XCTAssertFalse(result.timedOut, "\(command[0]) did not stop")
            XCTAssertFalse(result.signalled)
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(started), 30)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(lines.first?.contains(path) ?? false, result.stderr)
            XCTAssertTrue(result.stderr.contains("BNCONV_READ_TIMEOUT"), result.stderr)
        }
    }

    /// A shape whose element count overflows reaches the engine (fold verifies, run and convert
    /// run it): a clear error with status 1, not an overflow trap.
    func testAnOverflowingShapeIsAnErrorInTheEngine() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/robustness/fuzz/onnx-shape-product-overflow.onnx").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID().uuidString)").path
        for command in [["run", path], ["fold", path, "-o", out + ".onnx"], ["convert", path, "--layout", "nhwc", "-o", out + "-2.onnx"]] {
            let result = try CLIRunner.run(command, timeout: 60)
            XCTAssertFalse(result.signalled, "\(command[0]): \(result.stderr)")
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("more than this machine's memory holds"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".onnx"))
    }

    /// A batch whose random input would not fit (`--batch 2^40`) is refused before anything is
    /// made, naming the model, instead of aborting on the allocation.
    func testAnImpossibleBatchIsRefusedBeforeAllocating() throws {
        let model = FixturePaths.url("keras/mini_resnet/keras2.h5").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID().uuidString).h5").path
        for command in [["run", model, "--batch", "1099511627776"], ["fold", model, "--batch", "1099511627776", "-o", out]] {
            let result = try CLIRunner.run(command, timeout: 60)
            XCTAssertFalse(result.signalled, result.stderr)
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertEqual(result.stderr, "bnconv: error: \(model): a random input 'input' of shape [1099511627776, 16, 16, 3] would hold more than 67108864 values (256 MiB); use a smaller --batch, or --allow-large\n")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}

