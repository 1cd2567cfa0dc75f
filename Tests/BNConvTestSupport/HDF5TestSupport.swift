@testable import BNConvInterop
import Foundation
import XCTest

/// Helpers for the HDF5 wrapper tests: a scratch file per test.
enum HDF5TestSupport {
    /// A new HDF5 file in a fresh temporary directory (removed at teardown).
    static func scratchFile(_ test: XCTestCase, name: String = "t.h5") throws -> (HDF5File, String) {
        let dir = try FixturePaths.scratchDirectory()
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        return (try HDF5File.create(path), path)
    }
}
