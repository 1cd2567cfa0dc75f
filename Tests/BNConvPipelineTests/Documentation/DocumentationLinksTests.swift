import Foundation
import XCTest
@testable import BNConvTestSupport

/// The README and docs/ stand on their own in a clone: every link resolves to a file inside the
/// repository, no path climbs out of it (`../`), every repository path they name exists, and nothing
/// anywhere in the tree cites the project's notes by a name that is not a file of docs/.
final class DocumentationLinksTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().standardizedFileURL

    /// The names the project's notes go by; a mention must be `docs/NAME.md` and the file must exist.
    private static let noteNames = ["design", "observed", "formats", "prior-art", "math", "architecture"]

    /// A repository path in running text: a top-level folder, then path characters. Under `docs/` only
    /// lowercase names count (ours are; an upstream one like onnx's `docs/Operators.md` is not ours).
    private static let repositoryPath = try! NSRegularExpression(
        pattern: #"(?<![A-Za-z0-9_./-])(?:(?:Sources|Tests|tools|schemas|Fuzz)/[A-Za-z0-9_./+-]*|docs/[a-z0-9_-][a-z0-9_.-]*)"#)

    /// `../` as a path step (not the end of an ellipsis, `.../x`).
    private static let parentStep = try! NSRegularExpression(pattern: #"(?<![.\w])\.\./"#)

    /// README.md, docs/*.md, the DocC articles and the fixtures' README.
    private func documents() throws -> [URL] {
        let docs = try FileManager.default.contentsOfDirectory(at: Self.root.appendingPathComponent("docs"), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
        let catalog = try FileManager.default.contentsOfDirectory(
            at: Self.root.appendingPathComponent("Sources/BNConv/BNConv.docc"), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
        return [Self.root.appendingPathComponent("README.md"), Self.root.appendingPathComponent("Tests/Fixtures/README.md")]
            + docs.sorted { $0.path < $1.path } + catalog
    }

    /// Every text file of the tree a reader or a maintainer reads: the documents, the sources, the
    /// tests (not the fixtures' data), the tools, the fuzz driver, the manifest, Makefile and CI.
    private func treeFiles() throws -> [URL] {
        var files = try documents()
        for folder in ["Sources", "Tests", "tools", "Fuzz", "schemas", ".ci"] {
            guard let walk = FileManager.default.enumerator(at: Self.root.appendingPathComponent(folder), includingPropertiesForKeys: nil) else { continue }
            for case let file as URL in walk {
                if file.path.contains("/Tests/Fixtures/") { walk.skipDescendants(); continue }
                if ["swift", "h", "c", "py", "md", "proto", "txt", "modulemap", ""].contains(file.pathExtension),
                   !file.hasDirectoryPath { files.append(file) }
            }
        }
        return files + ["Package.swift", "Makefile"].map { Self.root.appendingPathComponent($0) }
    }

    private func relative(_ file: URL) -> String {
        file.standardizedFileURL.path.replacingOccurrences(of: Self.root.path + "/", with: "")
    }

    private func lines(of file: URL) -> [String] {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "").components(separatedBy: "\n")
    }

    private func matches(_ regex: NSRegularExpression, in line: String, group: Int = 0) -> [String] {
        regex.matches(in: line, range: NSRange(line.startIndex..., in: line)).map { String(line[Range($0.range(at: group), in: line)!]) }
    }

    func testMarkdownLinksResolveInsideTheRepository() throws {
        let link = try NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        var checked = 0
        for file in try documents() {
            for (number, line) in lines(of: file).enumerated() {
                for target in matches(link, in: line, group: 1) {
                    if ["http://", "https://", "mailto:", "#", "doc:"].contains(where: target.hasPrefix) { continue }
                    checked += 1
                    let path = String(target.split(separator: "#", maxSplits: 1).first ?? "")
                    let resolved = file.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
                    let place = "\(relative(file)):\(number + 1)"
                    XCTAssertTrue(resolved.path.hasPrefix(Self.root.path + "/"), "\(place): the link \(target) leaves the repository")
                    XCTAssertTrue(FileManager.default.fileExists(atPath: resolved.path), "\(place): the link \(target) names no file")
                }
            }
        }
        XCTAssertGreaterThan(checked, 10, "the scan sees the documents' links")
    }

    func testNoDocumentClimbsOutOfTheRepository() throws {
        for file in try documents() {
            for (number, line) in lines(of: file).enumerated() where !matches(Self.parentStep, in: line).isEmpty {
                XCTFail("\(relative(file)):\(number + 1): a path outside the repository: \(line)")
            }
        }
    }

    func testRepositoryPathsInTheDocumentsExist() throws {
        var checked = 0
        for file in try documents() {
            for (number, line) in lines(of: file).enumerated() {
                for match in matches(Self.repositoryPath, in: line) {
                    let path = match.trimmingCharacters(in: CharacterSet(charactersIn: ".,"))
                    checked += 1
                    XCTAssertTrue(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path),
                                  "\(relative(file)):\(number + 1): \(path) does not exist")
                }
            }
        }
        XCTAssertGreaterThan(checked, 50, "the scan sees the repository paths the documents name")
    }

    /// `../shared/design.md`, `shared/formats.md` or a bare `observed.md` in a comment point at notes a
    /// clone does not have; the notes that matter are docs/*.md, cited with that path.
    func testTheNotesAreCitedByTheirPathInDocs() throws {
        let names = Self.noteNames.joined(separator: "|")
        let mention = try NSRegularExpression(pattern: #"[A-Za-z0-9_./-]*\b(?:"# + names + #")\.md\b"#)
        var checked = 0
        let thisFile = URL(fileURLWithPath: #filePath).standardizedFileURL.path
        for file in try treeFiles() where file.standardizedFileURL.path != thisFile {
            let insideDocs = relative(file).hasPrefix("docs/")
            for (number, line) in lines(of: file).enumerated() {
                for cited in matches(mention, in: line) {
                    checked += 1
                    let place = "\(relative(file)):\(number + 1)"
                    let path = insideDocs && !cited.contains("/") ? "docs/" + cited : cited
                    XCTAssertTrue(path.hasPrefix("docs/") && FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path),
                                  "\(place): '\(cited)' is not a file of docs/ (cite docs/NAME.md)")
                }
            }
        }
        XCTAssertGreaterThan(checked, 20, "the scan sees the citations")
    }

    /// The patterns find what they are meant to.
    func testThePatternsFindOutsidePathsAndRepositoryPaths() throws {
        let line = "See ../shared/design.md, `Sources/BNConvCore/Tensor/Tensor.swift` and tensorflow/tools/x.cc."
        XCTAssertEqual(matches(Self.repositoryPath, in: line), ["Sources/BNConvCore/Tensor/Tensor.swift"])
        XCTAssertEqual(matches(Self.repositoryPath, in: "docs/math.md and onnx's `docs/Operators.md`"), ["docs/math.md"])
        XCTAssertEqual(matches(Self.parentStep, in: line).count, 1)
        XCTAssertEqual(matches(Self.parentStep, in: #"Const(".../resource"), x/../y"#).count, 1)
        let names = Self.noteNames.joined(separator: "|")
        let mention = try NSRegularExpression(pattern: #"[A-Za-z0-9_./-]*\b(?:"# + names + #")\.md\b"#)
        XCTAssertEqual(matches(mention, in: line + " docs/math.md (formats.md 5)"), ["../shared/design.md", "docs/math.md", "formats.md"])
    }
}
