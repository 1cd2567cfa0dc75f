import Foundation
import XCTest
@testable import BNConvTestSupport

/// Every public declaration of the library carries a `///` doc comment, and every symbol link in the
/// DocC catalog (`Sources/BNConv/BNConv.docc`) names a public declaration that exists. A cheap,
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
        for file in try swiftFiles() {
            publicNames.formUnion(PublicDeclarationScan(text: try String(contentsOf: file, encoding: .utf8)).names)
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
            }
        }
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
