import Foundation
import XCTest
@testable import BNConvTestSupport

/// The layers as docs/architecture.md describes them, against `Package.swift` and the sources: the
/// table of targets there lists exactly each target's dependencies, every `import` in `Sources/<target>`
/// names a target that target depends on (directly or through its dependencies), and only
/// `BNConvInterop` imports a C module. The compiler refuses a wrong-way import only when the module is
/// not already built (`make test` adds `--explicit-target-dependency-import-check error`); this test
/// refuses it in any build directory.
final class LayerImportsTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    private func text(_ path: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Each target declared in `Package.swift` with the names in its `dependencies` list (a product
    /// dependency counts by its product name).
    private func packageTargets() throws -> [String: Set<String>] {
        let manifest = try text("Package.swift")
        let declaration = try NSRegularExpression(pattern: #"\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([^"]+)""#)
        let matches = declaration.matches(in: manifest, range: NSRange(manifest.startIndex..., in: manifest))
        var targets: [String: Set<String>] = [:]
        for (i, match) in matches.enumerated() {
            let name = String(manifest[Range(match.range(at: 1), in: manifest)!])
            let end = i + 1 < matches.count ? Range(matches[i + 1].range, in: manifest)!.lowerBound : manifest.endIndex
            let body = manifest[Range(match.range, in: manifest)!.upperBound..<end]
            targets[name, default: []].formUnion(dependencyNames(in: body))
        }
        return targets
    }

    /// The quoted names inside the `dependencies: [...]` list of one target declaration.
    private func dependencyNames(in body: Substring) -> Set<String> {
        guard let start = body.range(of: "dependencies:")?.upperBound,
              let open = body[start...].firstIndex(of: "[") else { return [] }
        var depth = 0
        var close = open
        for index in body[open...].indices {
            if body[index] == "[" { depth += 1 }
            if body[index] == "]" { depth -= 1; if depth == 0 { close = index; break } }
        }
        var list = String(body[body.index(after: open)..<close])
        // `.product(name: "X", package: "Y")` counts as "X".
        list = list.replacingOccurrences(of: #"\.product\(\s*name:\s*("[^"]+")[^)]*\)"#, with: "$1", options: .regularExpression)
        let quoted = try! NSRegularExpression(pattern: #""([^"]+)""#)
        return Set(quoted.matches(in: list, range: NSRange(list.startIndex..., in: list)).map {
            String(list[Range($0.range(at: 1), in: list)!])
        })
    }

    /// The rows of the table in docs/architecture.md: target -> the backticked names of its last cell.
    private func documentedTargets() throws -> [String: Set<String>] {
        let doc = try text("docs/architecture.md")
        var rows: [String: Set<String>] = [:]
        let name = try NSRegularExpression(pattern: "`([A-Za-z][A-Za-z0-9]*)`")
        for line in doc.components(separatedBy: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3 else { continue }
            let target = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let last = cells[2]
            rows[target] = Set(name.matches(in: last, range: NSRange(last.startIndex..., in: last)).map {
                String(last[Range($0.range(at: 1), in: last)!])
            })
        }
        return rows
    }

    /// Targets with no Swift source (system libraries and the generated protobuf-c code).
    private func isCTarget(_ name: String) -> Bool {
        let folder = Self.root.appendingPathComponent("Sources").appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue,
              let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return false }
        return !files.contains { ($0 as? URL)?.pathExtension == "swift" }
    }

    /// The modules a file imports, with their line numbers.
    private func imports(in file: URL) throws -> [(module: String, line: Int)] {
        let pattern = try NSRegularExpression(
            pattern: #"^\s*(?:@[A-Za-z_]+\s+)*import\s+(?:(?:struct|class|enum|func|protocol|typealias|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)"#)
        return try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n").enumerated().compactMap { index, line in
            guard let match = pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) else { return nil }
            return (String(line[Range(match.range(at: 1), in: line)!]), index + 1)
        }
    }

    /// Everything `target` depends on, directly or through its dependencies.
    private func closure(of target: String, in package: [String: Set<String>]) -> Set<String> {
        var seen: Set<String> = []
        var queue = Array(package[target] ?? [])
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            queue += package[next] ?? []
        }
        return seen
    }

    func testTheDocumentedTableIsPackageSwift() throws {
        let package = try packageTargets()
        let documented = try documentedTargets()
        let layers = Set(package.keys.filter { ($0.hasPrefix("BNConv") || $0 == "bnconv") && !$0.hasSuffix("Tests") && $0 != "BNConvTestSupport" })
        XCTAssertGreaterThanOrEqual(layers.count, 11, "found the library targets in Package.swift: \(layers.sorted())")
        XCTAssertEqual(Set(documented.keys), layers, "docs/architecture.md has one row per library target and the CLI")
        for (target, dependencies) in documented {
            XCTAssertEqual(dependencies, package[target], "docs/architecture.md: the dependencies of \(target)")
        }
    }

    func testEverySourceFileImportsOnlyWhatItsTargetDependsOn() throws {
        let package = try packageTargets()
        let cTargets = Set(package.keys.filter(isCTarget))
        XCTAssertEqual(cTargets, ["CHDF5", "CProtobufC", "CBNConvProto", "CZlibInflate"])
        var checked = 0
        for target in package.keys where (target.hasPrefix("BNConv") || target == "bnconv") && !cTargets.contains(target) {
            let folder = Self.root.appendingPathComponent("Sources").appendingPathComponent(target)
            guard let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { continue }
            // A target may import its dependencies and theirs, but a C module only when it names it itself.
            let direct = package[target] ?? []
            let allowed = closure(of: target, in: package).filter { !cTargets.contains($0) || direct.contains($0) }
            for case let file as URL in files where file.pathExtension == "swift" {
                for (module, line) in try imports(in: file) where package[module] != nil {
                    checked += 1
                    let place = "\(file.path.replacingOccurrences(of: Self.root.path + "/", with: "")):\(line)"
                    XCTAssertTrue(allowed.contains(module), "\(place): \(target) imports \(module), which it does not depend on (Package.swift)")
                    if cTargets.contains(module) {
                        XCTAssertEqual(target, "BNConvInterop", "\(place): C modules are imported only in BNConvInterop")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 300, "the scan sees the imports between targets")
    }

    /// The scan reads every form of import, and a Passes file importing Formats would be refused:
    /// Passes depend on no file format.
    func testTheScanSeesAWrongWayImport() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("LayerImportsTests-\(UUID().uuidString).swift")
        try "import BNConvCore\n@testable import BNConvFormats\n  @_exported import struct BNConvModel.Model\n".write(to: file, atomically: false, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: file) }
        let found = try imports(in: file)
        XCTAssertEqual(found.map(\.module), ["BNConvCore", "BNConvFormats", "BNConvModel"])
        XCTAssertEqual(found.map(\.line), [1, 2, 3])
        let package = try packageTargets()
        XCTAssertTrue(closure(of: "BNConvPasses", in: package).contains("BNConvModel"))
        XCTAssertFalse(closure(of: "BNConvPasses", in: package).contains("BNConvFormats"))
        XCTAssertFalse(closure(of: "BNConvPasses", in: package).contains("BNConvInterop"))
    }
}
