@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Files read from bytes lent without a copy and files written inside another file at an offset
/// (a STORED `.keras` member, read and written in place).
final class HDF5InPlaceFileTests: XCTestCase {
    /// Memory that an `HDF5File` keeps alive while it reads it.
    private final class Bytes {
        let buffer: UnsafeMutableRawBufferPointer
        init(_ bytes: [UInt8]) {
            buffer = .allocate(byteCount: bytes.count, alignment: 16)
            buffer.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: bytes.count))
        }
        deinit { buffer.deallocate() }
    }

    /// libhdf5 reads the lent bytes themselves: bytes changed after the file was opened (and
    /// before the dataset was read) are what it reads. The file keeps the bytes' owner alive.
    func testALentImageIsReadWhereItLies() throws {
        let memory = try HDF5File.createInMemory(name: "mem.h5")
        try memory.root().createDataset("vars/0", tensor: Tensor(shape: [4], floats: [1, 2, 3, 4]))
        let image = try memory.image()
        let copy = try HDF5File.open(image: image, name: "copy.h5")
        let dataset = try copy.root().dataset("vars/0")
        let offset = try XCTUnwrap(dataset.rawFileOffset(dtype: .float32, byteCount: 16, creation: try dataset.creation()))

        var owner: Bytes? = Bytes(image)
        let lent = try HDF5File.open(lending: UnsafeRawBufferPointer(owner!.buffer), owner: owner!, name: "x.keras/model.weights.h5")
        owner!.buffer.storeBytes(of: Float(9), toByteOffset: offset, as: Float.self)
        owner = nil
        XCTAssertEqual(try lent.root().dataset("vars/0").readTensor().floats(), [9, 2, 3, 4])
        try lent.close()
    }

    func testAnEmptyImageIsRefused() {
        XCTAssertThrowsError(try HDF5File.open(lending: UnsafeRawBufferPointer(start: nil, count: 0), owner: self, name: "x.keras/model.weights.h5")) { error in
            XCTAssertEqual((error as? HDF5Error)?.file, "x.keras/model.weights.h5")
        }
    }

    /// A file made at an offset of another file leaves what lies before it, is byte for byte the
    /// file HDF5 makes on its own (apart from object times), and takes raw bytes written beside
    /// HDF5 at `baseOffset` plus the address HDF5 reserved.
    func testAFileCreatedAtAnOffsetIsAPlainHDF5FileAfterThePrefix() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let container = dir.appendingPathComponent("archive.bin").path
        let alone = dir.appendingPathComponent("alone.h5").path
        let prefix = (0..<1_235).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(prefix).write(to: URL(fileURLWithPath: container))
        let started = HDF5TestSupport.now
        func fill(_ file: HDF5File) throws -> Int {
            let root = try file.root()
            try root.createDataset("layers/dense/vars/1", tensor: Tensor(shape: [3], floats: [0.5, 1.5, 2.5]))
            try root.writeStrings("name", ["model"], encoding: .variableUTF8, scalar: true)
            let reserved = try root.createGroup("layers/conv/vars").createDataset("0", dtype: .float32, shape: [2, 3], creation: .contiguous)
            return try reserved.reserveContiguousStorage()
        }
        let inside = try HDF5File.create(container, atOffset: prefix.count, name: "archive.bin/model.weights.h5", unbufferedRawData: true)
        XCTAssertEqual(inside.containerPath, container)
        XCTAssertEqual(inside.baseOffset, prefix.count)
        let address = try fill(inside)
        let raw: [Float] = [1, -2, 3, -4, 5, -6]
        let fd = open(container, O_WRONLY)
        XCTAssertEqual(raw.withUnsafeBytes { FileBytes.writeAll(fd, $0, at: inside.baseOffset + address) }, 0)
        close(fd)
        try inside.close()
        let own = try HDF5File.create(alone, unbufferedRawData: true)
        let ownAddress = try fill(own)
        let fd2 = open(alone, O_WRONLY)
        XCTAssertEqual(raw.withUnsafeBytes { FileBytes.writeAll(fd2, $0, at: ownAddress) }, 0)
        close(fd2)
        try own.close()
        let times = (started - 1)...(HDF5TestSupport.now + 1)

        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: container)))
        XCTAssertEqual(Array(whole.prefix(prefix.count)), prefix, "the prefix is left as it was")
        let member = Array(whole.dropFirst(prefix.count))
        XCTAssertEqual(address, ownAddress)
        XCTAssertEqual(HDF5TestSupport.differencesApartFromTimes(member, [UInt8](try Data(contentsOf: URL(fileURLWithPath: alone))), times: times), [])

        let reopened = try HDF5File.open(image: member, name: "member.h5")
        XCTAssertEqual(try reopened.root().dataset("layers/conv/vars/0").readTensor().floats(), raw)
        XCTAssertEqual(try reopened.root().dataset("layers/dense/vars/1").readTensor().floats(), [0.5, 1.5, 2.5])
        XCTAssertEqual(try reopened.root().stringAttribute("name"), "model")
    }

    func testAMissingContainerIsAnErrorNamingTheFile() {
        XCTAssertThrowsError(try HDF5File.create("/nonexistent/dir/x.keras", atOffset: 10, name: "x.keras/model.weights.h5")) { error in
            guard let e = error as? HDF5Error else { return XCTFail("\(error)") }
            XCTAssertEqual(e.file, "x.keras/model.weights.h5")
            XCTAssertEqual(e.operation, "create the file")
            XCTAssertTrue(e.message.contains("No such file"), e.message)
        }
    }
}
