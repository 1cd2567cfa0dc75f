import Foundation
import XCTest
@testable import BNConvTestSupport

/// Every public declaration of the library carries a `///` doc comment, and every symbol link in the
/// DocC catalog (`Sources/BNConv/BNConv.docc`) names a public declaration that exists (a function with
/// the argument labels the link gives). A cheap,
/// source-level stand-in for `make docs` (the DocC plugin build), which CI does not run.
final class PublicDocCommentTests: XCTestCase {
    /// `Sources/`: the library is every `BNConv*` target below it.
    private static let sourcesRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
    /// The umbrella target, which holds the DocC catalog.
    private static let sources = sourcesRoot.appendingPathComponent("BNConv")

    func testEveryPublicDeclarationHasADocComment() throws {
        let files = try swiftFiles()
        XCTAssertGreaterThan(files.count, 50, "found the library sources")
        var checked = 0
        for file in files {
            let scan = PublicDeclarationScan(text: try String(contentsOf: file, encoding: .utf8))
            checked += scan.declarations.count
            for declaration in scan.declarations where !declaration.documented {
                XCTFail("\(file.path):\(declaration.line): public declaration without a /// doc comment: \(declaration.text)")
            }
        }
        XCTAssertGreaterThan(checked, 500, "the scan sees the library's public declarations")
    }

    func testTheScanFindsUndocumentedDeclarations() {
        let scan = PublicDeclarationScan(text: """
            /// Documented.
            public enum E: String {
                /// Documented.
                case a
                case b
                private enum Inner { case hidden }
                public var x: Int { 1 }
            }
            public struct S {
                @inlinable public init() {}
                /// Documented, with an attribute between.
                @discardableResult
                public func f() -> Int { 1 }
                nonisolated(unsafe) public static var v = 1
                let text = "public x"
            }
            extension S {}
            """)
        XCTAssertEqual(scan.declarations.filter { !$0.documented }.map(\.line), [5, 7, 9, 10, 14])
        XCTAssertEqual(scan.declarations.filter(\.documented).map(\.line), [2, 4, 13])
    }

    func testEverySymbolLinkInTheCatalogNamesAPublicDeclaration() throws {
        let catalog = PublicDocCommentTests.sources.appendingPathComponent("BNConv.docc")
        let articles = try FileManager.default.contentsOfDirectory(at: catalog, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
        XCTAssertEqual(Set(articles.map(\.lastPathComponent)),
                       ["BNConv.md", "LayoutsAndKernelAxes.md", "FoldingBatchNorm.md", "ReadingAndWritingCheckpoints.md"])
        var publicNames = Set<String>()
        var sourceText = ""
        for file in try swiftFiles() {
            let text = try String(contentsOf: file, encoding: .utf8)
            publicNames.formUnion(PublicDeclarationScan(text: text).names)
            sourceText += text + "\n"
        }
        let link = try NSRegularExpression(pattern: "(?<!`)``([A-Za-z][^`\\s]*)``(?!`)")
        for article in articles {
            let text = try String(contentsOf: article, encoding: .utf8)
            for match in link.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let symbol = String(text[Range(match.range(at: 1), in: text)!])
                if symbol == "BNConv" { continue }
                // `Type/member(label:)` -> every path component must be a public name.
                for part in symbol.split(separator: "/") {
                    let name = String(part.split(separator: "(")[0].split(separator: "-")[0])
                    XCTAssertTrue(publicNames.contains(name), "\(article.lastPathComponent): ``\(symbol)``: no public \(name)")
                }
                // `member(a:b:)` -> a public function or initializer with exactly those argument labels.
                if let last = symbol.split(separator: "/").last, last.hasSuffix(":)"), let open = last.firstIndex(of: "(") {
                    let name = String(last[..<open])
                    let labels = last[last.index(after: open)..<last.index(before: last.endIndex)].split(separator: ":").map(String.init)
                    XCTAssertTrue(Self.publicFunctionLabels(named: name, in: sourceText).contains(labels),
                                  "\(article.lastPathComponent): ``\(symbol)``: no public \(name) with the labels \(labels); it has \(Self.publicFunctionLabels(named: name, in: sourceText))")
                }
            }
        }
    }

    /// The argument labels of every public function (or initializer, for `init`) called `name` in `text`.
    static func publicFunctionLabels(named name: String, in text: String) -> [[String]] {
        let head = name == "init" ? #"\binit[?!]?"# : #"\bfunc\s+"# + NSRegularExpression.escapedPattern(for: name)
        guard let declaration = try? NSRegularExpression(pattern: #"\bpublic\b[^\n{]*?"# + head + #"\s*(?:<[^>]*>)?\s*\("#) else { return [] }
        return declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            // The parameter list, up to the parenthesis that closes it.
            var depth = 1
            var parameters = ""
            for character in text[Range(match.range, in: text)!.upperBound...] {
                if "([<".contains(character) { depth += 1 }
                if ")]>".contains(character) { depth -= 1 }
                if depth == 0 { break }
                parameters.append(depth == 1 && character == "," ? "\u{0}" : character)
            }
            return parameters.split(separator: "\u{0}").compactMap { parameter in
                parameter.trimmingCharacters(in: .whitespacesAndNewlines).split(whereSeparator: { $0 == " " || $0 == ":" }).first.map(String.init)
            }
        }
    }

    func testTheLabelScanReadsSignatures() {
        let text = """
            public static func read(_ path: String, config: String? = nil,
                                    deferringWeights: Int? = nil) throws -> Model { }
            public func apply<T: Sequence>(to model: consuming Model, progress: ((Int, Int) -> Void)? = nil) {}
            func hidden(x: Int) {}
            public init(rank: Int) {}
            """
        XCTAssertEqual(Self.publicFunctionLabels(named: "read", in: text), [["_", "config", "deferringWeights"]])
        XCTAssertEqual(Self.publicFunctionLabels(named: "apply", in: text), [["to", "progress"]])
        XCTAssertEqual(Self.publicFunctionLabels(named: "hidden", in: text), [])
        XCTAssertEqual(Self.publicFunctionLabels(named: "init", in: text), [["rank"]])
    }

    private func swiftFiles() throws -> [URL] {
        let targets = try FileManager.default.contentsOfDirectory(at: PublicDocCommentTests.sourcesRoot, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("BNConv") }
        return targets.flatMap { target in
            let enumerator = FileManager.default.enumerator(at: target, includingPropertiesForKeys: nil)
            return (enumerator?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "swift" }
        }.sorted { $0.path < $1.path }
    }
}
