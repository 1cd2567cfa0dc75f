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

extension HDF5TestSupport {
    /// The offsets at which `a` and `b` differ other than in an HDF5 object modification time: a
    /// little-endian 32-bit Unix time that falls within `times` in both (libhdf5 stamps each object
    /// header it writes, so two writes of the same content a second apart differ there). Empty
    /// when the two are the same file written at times within `times`; files of different lengths
    /// differ at the shorter one's end.
    static func differencesApartFromTimes(_ a: [UInt8], _ b: [UInt8], times: ClosedRange<UInt32>) -> [Int] {
        guard a.count == b.count else { return [min(a.count, b.count)] }
        func time(_ bytes: [UInt8], _ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
        }
        return a.indices.filter { i in
            guard a[i] != b[i] else { return false }
            let explained = (max(0, i - 3)...min(i, a.count - 4)).contains { start in
                times.contains(time(a, start)) && times.contains(time(b, start))
            }
            return !explained
        }
    }

    /// The current Unix time in seconds (for a window of ``differencesApartFromTimes(_:_:times:)``).
    static var now: UInt32 { UInt32(Date().timeIntervalSince1970) }
}
