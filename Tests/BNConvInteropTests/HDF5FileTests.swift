@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport
import Foundation
import XCTest

final class HDF5FileTests: XCTestCase {
    func testCreateCloseReopenKeepsGroupsAndDatasets() throws {
        let (file, path) = try HDF5TestSupport.scratchFile(self)
        try file.root().createGroup("a/b").createDataset("x:0", tensor: Tensor(shape: [2], floats: [1, 2]))
        try file.close()
        let reopened = try HDF5File.open(path)
        let root = try reopened.root()
        XCTAssertEqual(try root.memberNames(), ["a"])
        XCTAssertEqual(root.kind(of: "a/b"), .group)
        XCTAssertEqual(root.kind(of: "a/b/x:0"), .dataset)
        XCTAssertNil(root.kind(of: "a/missing/x"))
        XCTAssertEqual(try root.dataset("a/b/x:0").readTensor().floats(), [1, 2])
    }

    func testInMemoryImageRoundTrip() throws {
        let memory = try HDF5File.createInMemory(name: "mem.h5")
        try memory.root().createDataset("vars/0", tensor: Tensor(shape: [3], floats: [1, 2, 3]))
        try memory.root().writeStrings("name", ["m"], encoding: .variableUTF8, scalar: true)
        let image = try memory.image()
        XCTAssertEqual(Array(image.prefix(4)), [0x89, 0x48, 0x44, 0x46])
        let opened = try HDF5File.open(image: image, name: "x.keras/model.weights.h5")
        XCTAssertEqual(try opened.root().dataset("vars/0").readTensor().floats(), [1, 2, 3])
        XCTAssertEqual(try opened.root().stringAttribute("name"), "m")
    }

    func testCreateExclusiveRefusesAnExistingFile() throws {
        let (file, path) = try HDF5TestSupport.scratchFile(self)
        try file.close()
        XCTAssertThrowsError(try HDF5File.create(path, overwrite: false)) { error in
            let e = try? XCTUnwrap(error as? HDF5Error)
            XCTAssertEqual(e?.file, path)
            XCTAssertEqual(e?.operation, "create the file")
            XCTAssertFalse(e?.message.isEmpty ?? true, "HDF5's own message is carried")
        }
        XCTAssertNoThrow(try HDF5File.create(path, overwrite: true))
    }

    func testOpeningAMissingFileCarriesHDF5sMessage() {
        XCTAssertThrowsError(try HDF5File.open("/nonexistent/dir/x.h5")) { error in
            guard let e = error as? HDF5Error else { return XCTFail("\(error)") }
            XCTAssertEqual(e.file, "/nonexistent/dir/x.h5")
            XCTAssertTrue(e.message.contains("unable to open file") || e.message.contains("No such file"), e.message)
        }
    }

    func testMissingObjectErrorNamesThePath() throws {
        let (file, _) = try HDF5TestSupport.scratchFile(self)
        XCTAssertThrowsError(try file.root().group("nope")) { error in
            XCTAssertEqual((error as? HDF5Error)?.path, "/nope")
        }
    }
}
