import CHDF5
import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

/// A model file must not make bnconv read other files: HDF5 external links and datasets whose data
/// is stored in external files are refused by name, and nothing of the other file is read.
final class HDF5OutsideFileTests: XCTestCase {
    /// A scratch directory with `secret.bin` (bytes another file must never leak) beside the model.
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try Data(repeating: 0x5A, count: 64).write(to: dir.appendingPathComponent("secret.bin"))
        return dir
    }

    func testAnExternalLinkIsNotFollowed() throws {
        let dir = try scratch()
        // other.h5 holds a real dataset; model.h5 links to it from /weights/conv.
        let otherPath = dir.appendingPathComponent("other.h5").path
        let other = try HDF5File.create(otherPath)
        try other.root().createDataset("kernel", tensor: Tensor(shape: [2], floats: [1, 2]))
        try other.close()
        let modelPath = dir.appendingPathComponent("model.h5").path
        let model = try HDF5File.create(modelPath)
        let weights = try model.root().createGroup("weights")
        XCTAssertGreaterThanOrEqual(H5Lcreate_external(otherPath, "/", weights.id, "conv", chdf5_p_default(), chdf5_p_default()), 0)
        try model.close()

        let file = try HDF5File.open(modelPath)
        let root = try file.root()
        XCTAssertTrue(root.contains("weights/conv"), "the link exists")
        XCTAssertFalse(root.contains("weights/conv/kernel"), "a path through it is not followed")
        XCTAssertEqual(root.kind(of: "weights/conv"), .other)
        for open in [{ _ = try root.group("weights/conv") }, { _ = try root.dataset("weights/conv/kernel") }] {
            XCTAssertThrowsError(try open()) { error in
                let e = error as? HDF5Error
                XCTAssertEqual(e?.path, "/weights/conv")
                XCTAssertTrue(e?.message.contains("HDF5 external link") ?? false, "\(error)")
            }
        }
    }

    func testADatasetStoredInAnExternalFileIsRefused() throws {
        let dir = try scratch()
        let modelPath = dir.appendingPathComponent("model.h5").path
        let model = try HDF5File.create(modelPath)
        // A float32 [16] dataset whose bytes are those of ../secret.bin (H5Pset_external).
        let plist = H5Pcreate(chdf5_p_dataset_create())
        defer { H5Pclose(plist) }
        XCTAssertGreaterThanOrEqual(H5Pset_external(plist, dir.appendingPathComponent("secret.bin").path, 0, 64), 0)
        var dims: [hsize_t] = [16]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let root = try model.root()
        let dataset = H5Dcreate2(root.id, "kernel", chdf5_t_ieee_f32le(), space, chdf5_p_default(), plist, chdf5_p_default())
        XCTAssertGreaterThanOrEqual(dataset, 0)
        H5Dclose(dataset)
        try model.close()

        let file = try HDF5File.open(modelPath)
        XCTAssertThrowsError(try file.root().dataset("kernel")) { error in
            let e = error as? HDF5Error
            XCTAssertEqual(e?.path, "/kernel")
            XCTAssertTrue(e?.message.contains("stored outside the model file") ?? false, "\(error)")
        }
    }
}
