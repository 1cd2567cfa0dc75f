import Foundation
import XCTest

/// Every model file under Tests/Fixtures (every family but the hostile inputs of `robustness/`):
/// relative paths, each with the architecture a weights-only Keras file needs.
enum FixtureModelFiles {
    /// The files, sorted: `.h5`, `.keras`, `.pb` and `.onnx` files, a TensorFlow checkpoint by its
    /// prefix (read with `PREFIX.meta`), a SavedModel by its directory.
    static func all() throws -> [(path: String, config: String?)] {
        let root = FixturePaths.root.standardizedFileURL
        let walk = try XCTUnwrap(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        var files: [(String, String?)] = []
        for case let url as URL in walk {
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            guard !relative.hasPrefix("robustness/") else { continue }
            if relative.hasPrefix("tf_savedmodel/") {
                if url.lastPathComponent == "saved_model.pb" { files.append((String(relative.dropLast("/saved_model.pb".count)), nil)) }
                continue
            }
            if url.lastPathComponent == "model.ckpt.meta" {
                files.append((String(relative.dropLast(".meta".count)), nil))
                continue
            }
            guard ["h5", "keras", "pb", "onnx"].contains(url.pathExtension) else { continue }
            var config: String?
            if url.lastPathComponent.contains("weights") {
                let flavour = url.lastPathComponent.hasPrefix("keras2") ? "keras2" : "keras3"
                config = url.deletingLastPathComponent().appendingPathComponent("\(flavour).json").path
            }
            files.append((relative, config))
        }
        return files.sorted { $0.0 < $1.0 }
    }
}
