import Foundation
import XCTest
@testable import BNConvTestSupport

/// The README's "Supported ops" table against the code: one row per case of the model's `Op`; each
/// reader column lists exactly the op or layer names that reader maps (its `case "..."` labels and
/// `== "..."` comparisons); the fold, engine and ONNX export columns say what the fold planner, the
/// engine's kernel factory and the ONNX exporter's emitter do with each op.
final class ReadmeOpsTableTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// One row: the op and its six cells.
    private struct Row {
        var op: String
        var keras: String, tensorFlow: String, onnx: String
        var fold: String, engine: String, export: String
    }

    private func source(_ path: String) throws -> String {
        try String(contentsOf: ReadmeOpsTableTests.root.appendingPathComponent(path), encoding: .utf8)
    }

    private func rows(file: StaticString = #filePath, line: UInt = #line) throws -> [Row] {
        let readme = try source("README.md")
        let section = try XCTUnwrap(readme.components(separatedBy: "### Supported ops\n").dropFirst().first,
                                    "README has a Supported ops section", file: file, line: line)
        return section.components(separatedBy: "\n").prefix { !$0.hasPrefix("#") }.filter { $0.hasPrefix("| `") }.map { text in
            let cells = text.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            XCTAssertEqual(cells.count, 7, "seven cells: \(text)", file: file, line: line)
            let c = cells + Array(repeating: "", count: max(0, 7 - cells.count))
            return Row(op: c[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")), keras: c[1], tensorFlow: c[2], onnx: c[3],
                       fold: c[4], engine: c[5], export: c[6])
        }
    }

    /// The `Op` cases, from Model/Op.swift.
    private func opCases() throws -> Set<String> {
        let text = try source("Sources/BNConvModel/Op.swift")
        let body = try XCTUnwrap(text.components(separatedBy: "public indirect enum Op").dropFirst().first ?? text.components(separatedBy: "public enum Op").dropFirst().first)
        var names = Set<String>()
        for line in body.components(separatedBy: "\n") {
            if line.hasPrefix("}") { break }
            if let match = line.range(of: "^    case ([a-zA-Z]+)", options: .regularExpression) {
                names.insert(String(line[match].dropFirst("    case ".count)))
            }
        }
        return names
    }

    /// Attribute values that appear in the readers' `case` labels beside op names.
    private static let attributeValues: Set<String> = ["SAME", "VALID", "EXPLICIT", "NOTSET", "SAME_UPPER", "SAME_LOWER"]

    /// The op names a reader maps: capitalized string literals in `case "..."` labels, `== "..."`
    /// comparisons and `Set<String> = [...]` literals (padding attribute values left out).
    private func readerNames(_ path: String) throws -> Set<String> {
        let text = try source(path)
        var names = Set<String>()
        for pattern in ["case\\s+((?:\"[^\"]*\"\\s*,\\s*)*\"[^\"]*\")\\s*:", "==\\s*(\"[^\"]*\")", "Set<String> = \\[([^\\]]*)\\]"] {
            let regex = try NSRegularExpression(pattern: pattern)
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let group = String(text[Range(match.range(at: 1), in: text)!])
                names.formUnion(quoted(group))
            }
        }
        return names.filter { $0.range(of: "^[A-Z][A-Za-z0-9_]*$", options: .regularExpression) != nil }
            .subtracting(ReadmeOpsTableTests.attributeValues)
    }

    private func quoted(_ text: String) -> [String] {
        text.components(separatedBy: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }

    /// The names in backticks in `cell`.
    private func backticked(_ cell: String) -> [String] {
        cell.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }

    /// The cases of the first `switch` after `anchor` in `path`: the `Op` cases each label names, and
    /// whether its body ends the case at its own level with `return .failure`, `throw` or a bare
    /// `return` (not inside an `if` or `guard`), with that line.
    private func switchCases(_ path: String, after anchor: String, switchLine: String, ops: Set<String>,
                             file: StaticString = #filePath, line: UInt = #line) throws -> [(ops: Set<String>, body: String)] {
        // body: the case's first top-level line that returns or throws, or "" when none does.
        let lines = try source(path).components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.contains(anchor) }),
              let open = lines[start...].firstIndex(where: { $0.contains(switchLine) }) else {
            XCTFail("\(path): no '\(switchLine)' after '\(anchor)': update ReadmeOpsTableTests", file: file, line: line)
            return []
        }
        var cases: [(ops: Set<String>, body: String)] = []
        var depth = 1
        var label: String?
        var exits: String?
        let opReference = try NSRegularExpression(pattern: "\\.([a-z][A-Za-z]*)")
        for text in lines[(open + 1)...] {
            let code = text.components(separatedBy: "//")[0].trimmingCharacters(in: .whitespaces)
            func close() {
                guard let complete = label else { return }
                let names = opReference.matches(in: complete, range: NSRange(complete.startIndex..., in: complete))
                    .map { String(complete[Range($0.range(at: 1), in: complete)!]) }
                cases.append((Set(names).intersection(ops), exits ?? ""))
                label = nil
                exits = nil
            }
            if depth == 1 && (code.hasPrefix("case ") || code.hasPrefix("default")) {
                close()
                label = code
            } else if depth == 1, let partial = label, !partial.hasSuffix(":") {
                label = partial + " " + code
            } else if depth == 1, label != nil, exits == nil,
                      code.hasPrefix("return .failure") || code.hasPrefix("throw") || code == "return" {
                exits = code
            }
            depth += code.filter { $0 == "{" }.count - code.filter { $0 == "}" }.count
            if depth <= 0 { close(); break }
        }
        XCTAssertFalse(cases.isEmpty, "\(path): found the switch's cases", file: file, line: line)
        return cases
    }

    func testOneRowPerOpOfTheModel() throws {
        let ops = try opCases()
        XCTAssertGreaterThan(ops.count, 15, "read the Op cases")
        let rows = try rows()
        XCTAssertEqual(rows.map(\.op).count, Set(rows.map(\.op)).count, "each op once")
        XCTAssertEqual(Set(rows.map(\.op)).subtracting(ops), [], "rows for ops the model does not have")
        XCTAssertEqual(ops.subtracting(rows.map(\.op)), [], "ops of the model missing from the README table")
    }

    func testReaderColumnsListExactlyWhatEachReaderMaps() throws {
        let rows = try rows()
        let columns: [(String, KeyPath<Row, String>, String)] = [
            ("Keras", \.keras, "Sources/BNConvFormats/Keras/KerasLayerMapper.swift"),
            ("TensorFlow", \.tensorFlow, "Sources/BNConvFormats/TensorFlow/GraphDefPatterns.swift"),
            ("ONNX", \.onnx, "Sources/BNConvFormats/ONNX/ONNXNodeMapper.swift"),
        ]
        for (format, column, path) in columns {
            let code = try readerNames(path)
            XCTAssertGreaterThan(code.count, 20, "\(format): read the reader's op names")
            let table = Set(rows.flatMap { backticked($0[keyPath: column]) })
            XCTAssertEqual(code.subtracting(table).sorted(), [], "\(format) names \(path) maps but the README table does not list")
            XCTAssertEqual(table.subtracting(code).sorted(), [], "\(format) names the README table lists but \(path) does not map")
        }
    }

    func testFoldColumnFollowsTheFoldPlanner() throws {
        let ops = try opCases()
        let path = "Sources/BNConvPasses/FoldPlanner.swift"
        let folds = { (cases: [(ops: Set<String>, body: String)]) in
            Set(cases.filter { !$0.body.hasPrefix("return .failure") }.flatMap(\.ops))
        }
        let intoProducer = folds(try switchCases(path, after: "func producerTarget(", switchLine: "switch producer.op {", ops: ops))
        let intoConsumer = folds(try switchCases(path, after: "func consumerTarget(", switchLine: "switch consumer.op {", ops: ops))
        XCTAssertEqual(intoProducer, ["conv", "depthwiseConv", "separableConv", "convTranspose", "dense"])
        XCTAssertTrue(intoConsumer.isSubset(of: intoProducer) && !intoConsumer.isEmpty, "\(intoConsumer)")
        for row in try rows() where row.op != "batchNorm" {
            XCTAssertEqual(row.fold.hasPrefix("yes"), intoProducer.contains(row.op), "\(row.op): BN folds into it: \(row.fold)")
            XCTAssertEqual(row.fold.contains("a BN before"), intoConsumer.contains(row.op), "\(row.op): a BN before it folds: \(row.fold)")
        }
    }

    func testEngineColumnFollowsTheKernelFactory() throws {
        let ops = try opCases()
        let cases = try switchCases("Sources/BNConvEngine/KernelFactory.swift", after: "static func make(", switchLine: "switch node.op {", ops: ops)
        let refused = Set(cases.filter { $0.body.hasPrefix("throw") }.flatMap(\.ops))
        XCTAssertEqual(Set(cases.flatMap(\.ops)), ops, "the kernel factory names every op")
        for row in try rows() {
            if refused.contains(row.op) {
                XCTAssertTrue(["no", "—"].contains(row.engine), "\(row.op): the engine refuses it, the README says \(row.engine)")
            } else {
                XCTAssertTrue(row.engine.hasPrefix("yes"), "\(row.op): the engine runs it, the README says \(row.engine)")
            }
        }
    }

    func testONNXExportColumnFollowsTheEmitter() throws {
        let ops = try opCases()
        let cases = try switchCases("Sources/BNConvFormats/ONNX/ONNXExportEmitter.swift", after: "func emit(_ node: Node)",
                                    switchLine: "switch node.op {", ops: ops)
        let refused = Set(cases.filter { $0.body.hasPrefix("throw") }.flatMap(\.ops))
        let skipped = Set(cases.filter { $0.body == "return" }.flatMap(\.ops))
        XCTAssertEqual(skipped, ["input"])
        for row in try rows() {
            if skipped.contains(row.op) {
                XCTAssertEqual(row.export, "—", row.op)
            } else if refused.contains(row.op) || !Set(cases.flatMap(\.ops)).contains(row.op) {
                XCTAssertEqual(row.export, "no", "\(row.op): the exporter refuses it")
            } else {
                XCTAssertTrue(row.export.hasPrefix("yes"), "\(row.op): the exporter writes it, the README says \(row.export)")
            }
        }
    }
}
