import Foundation

/// Locations of the committed fixtures (Tests/Fixtures) and a scratch directory for outputs.
enum FixturePaths {
    /// `Tests/Fixtures`, found from this source file's path so tests run from any directory.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// A fixture file by path relative to `Tests/Fixtures`.
    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// A fresh empty temporary directory, removed by the caller's `addTeardownBlock` if wanted.
    static func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("bnconv-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
