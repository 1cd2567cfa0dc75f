@testable import BNConvCore
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Bad input gives one clear CheckpointError naming the file and the problem.
final class CheckpointTests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    private func assertError(_ path: String, _ kind: CheckpointError.Kind, containing words: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Checkpoint.read(path), file: file, line: line) { error in
            guard let e = error as? CheckpointError else { return XCTFail("\(type(of: error)): \(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            XCTAssertEqual(e.file, path, file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix(path + ": "), e.description, file: file, line: line)
            XCTAssertTrue(e.description.contains(words), e.description, file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), "one line", file: file, line: line)
        }
    }

    func testMissingFile() throws {
        assertError(try scratch().appendingPathComponent("nope.h5").path, .cannotOpen, containing: "no such file")
    }

    func testRandomBytes() throws {
        let path = try scratch().appendingPathComponent("random.bin").path
        // Seeded (a linear congruential sequence): unseeded bytes now and then began with enough
        // valid protobuf fields to be taken for a damaged GraphDef, which is another error.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<4096).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33) & 0x7F
        }
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        assertError(path, .unrecognizedFormat, containing: "not a checkpoint")
    }

    func testRandomBytesNamedH5() throws {
        let path = try scratch().appendingPathComponent("random.h5").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 100))
        assertError(path, .unrecognizedFormat, containing: "not an HDF5 file")
    }

    func testTruncatedHDF5() throws {
        let (h5, source) = try HDF5TestSupport.scratchFile(self)
        try h5.root().createDataset("x", tensor: Tensor(shape: [1000], floats: Array(repeating: 1, count: 1000)))
        try h5.close()
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: source))
        let path = try scratch().appendingPathComponent("truncated.h5").path
        _ = FileManager.default.createFile(atPath: path, contents: bytes.prefix(1500))
        assertError(path, .unrecognizedFormat, containing: "truncated file")
    }

    func testHDF5ThatIsNotKeras() throws {
        let (h5, path) = try HDF5TestSupport.scratchFile(self, name: "data.h5")
        try h5.root().createDataset("x", tensor: Tensor(shape: [2], floats: [1, 2]))
        try h5.close()
        assertError(path, .unrecognizedFormat, containing: "not a Keras checkpoint")
    }

    func testWeightsOnlyFileWithoutConfigAsksForOne() throws {
        let path = FixturePaths.url("keras/dense_bn/keras3.weights.h5").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
        assertError(path, .unsupported, containing: "--config")
    }

    func testZipThatIsNotKeras() throws {
        let path = try scratch().appendingPathComponent("x.keras").path
        _ = FileManager.default.createFile(atPath: path, contents: Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0]))
        assertError(path, .malformed, containing: "zip")
    }
}
