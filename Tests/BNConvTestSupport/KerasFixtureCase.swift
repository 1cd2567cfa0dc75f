import Foundation
import XCTest

/// One Keras fixture case (`Tests/Fixtures/keras/<case>`) and its `facts.json`, recorded by real Keras.
struct KerasFixtureCase {
    /// The case folder.
    let directory: URL
    /// facts.json as parsed.
    let facts: [String: Any]

    /// The case name.
    var name: String { directory.lastPathComponent }

    /// Every case folder that has a facts.json.
    static func all() throws -> [KerasFixtureCase] {
        let root = FixturePaths.url("keras")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        return try names.sorted().compactMap { name in
            let dir = root.appendingPathComponent(name)
            let factsURL = dir.appendingPathComponent("facts.json")
            guard let data = FileManager.default.contents(atPath: factsURL.path) else { return nil }
            let facts = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return KerasFixtureCase(directory: dir, facts: facts)
        }
    }

    /// The facts of one flavour (`keras2`/`keras3`), if the case has it.
    func flavour(_ key: String) -> [String: Any]? { facts[key] as? [String: Any] }

    /// The checkpoint files of a flavour (not the .json configs), with the config a weights-only file needs.
    func checkpoints(_ key: String) -> [(path: String, config: String?)] {
        let files = (flavour(key)?["files"] as? [String]) ?? []
        let config = directory.appendingPathComponent("\(key).json").path
        return files.filter { !$0.hasSuffix(".json") }.map { file in
            (directory.appendingPathComponent(file).path, file.contains("weights") ? config : nil)
        }
    }
}
