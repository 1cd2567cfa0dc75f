@testable import BNConvCore
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

final class NumPyFileTests: XCTestCase {
    private func expectations() throws -> [String: [String: Any]] {
        try XCTUnwrap(try fixtureJSON("npy/values.json") as? [String: [String: Any]])
    }

    func testReadsEveryFileNumpyWrote() throws {
        let dtypes: [String: DType] = ["<f4": .float32, "<f2": .float16, "<f8": .float64, "|u1": .uint8,
                                       "<i4": .int32, "<i8": .int64]
        let all = try expectations()
        XCTAssertEqual(all.count, 11)
        for (name, facts) in all {
            let tensor = try fixtureArray("npy/\(name).npy")
            XCTAssertEqual(tensor.shape, facts["shape"] as? [Int], name)
            XCTAssertEqual(tensor.dtype, dtypes[facts["dtype"] as? String ?? ""], name)
            let values = try XCTUnwrap(facts["values"] as? [String], name).compactMap(Double.init)
            XCTAssertEqual(tensor.doubles(), values, name)
        }
    }

    func testRoundTripsThroughWriter() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for name in ["f4_2x3", "f2_2x3", "f8_2x3", "u1_4", "i4_2x2", "i8_3", "f4_scalar", "f4_empty", "f4_1x2x3x4"] {
            let original = try fixtureArray("npy/\(name).npy")
            let path = dir.appendingPathComponent("\(name).npy").path
            try NumPyFile.write(original, to: path)
            XCTAssertEqual(try NumPyFile.read(path), original, name)
            // numpy's own v1 layout: the same bytes as the file numpy wrote.
            let numpyBytes = try Data(contentsOf: FixturePaths.url("npy/\(name).npy"))
            XCTAssertEqual(try NumPyFile.encode(original), numpyBytes, name)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }, [])
    }

    func testRefusesWhatItCannotRead() throws {
        let cases = ["bad_fortran": "Fortran", "bad_bigendian": "big-endian", "bad_object": "object",
                     "bad_truncated": "needs 24"]
        for (name, phrase) in cases {
            let path = FixturePaths.url("npy/\(name).npy").path
            XCTAssertThrowsError(try NumPyFile.read(path), name) { error in
                let e = error as? CheckpointError
                XCTAssertEqual(e?.file, path, name)
                XCTAssertTrue(e?.description.contains(phrase) ?? false, "\(name): \(error)")
            }
        }
    }

    func testRefusesOversizedHeaderBeforeReadingIt() throws {
        var data = Data([0x93] + Array("NUMPY".utf8) + [2, 0])
        data.append(contentsOf: [0x11, 0x27, 0, 0])   // 10001
        XCTAssertThrowsError(try NumPyFile.decode(data, file: "big.npy")) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .unsupported)
            XCTAssertTrue("\(error)".hasPrefix("big.npy: header of 10001 bytes"), "\(error)")
        }
    }

    func testRefusesHugeShapeWithoutAllocating() throws {
        let header = NumPyHeader(descr: "<f4", shape: [1 << 20, 1 << 20]).literal + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0])
        data.append(contentsOf: Array(header.utf8))
        XCTAssertThrowsError(try NumPyFile.decode(data, file: "huge.npy")) { error in
            XCTAssertTrue("\(error)".contains("4398046511104 bytes"), "\(error)")
        }
    }

    func testRefusesBFloat16OnWrite() {
        let t = Tensor(shape: [1], doubles: [1], dtype: .bfloat16)
        XCTAssertThrowsError(try NumPyFile.encode(t, file: "x.npy")) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .unsupported)
        }
    }

    func testOverwritesAnExistingFileThroughADotDotPath() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("sub/../y.npy").path
        try NumPyFile.write(Tensor(shape: [1], floats: [1]), to: path)
        try NumPyFile.write(Tensor(shape: [2], floats: [2, 3]), to: path)
        XCTAssertEqual(try NumPyFile.read(dir.appendingPathComponent("y.npy").path), Tensor(shape: [2], floats: [2, 3]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["sub", "y.npy"])
    }

    func testWriteFailureLeavesNothing() throws {
        let path = "/nonexistent-dir-bnconv/x.npy"
        XCTAssertThrowsError(try NumPyFile.write(Tensor(shape: [1], floats: [1]), to: path)) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .writeFailed)
        }
    }
}
