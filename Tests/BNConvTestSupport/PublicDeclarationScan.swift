import Foundation

/// The public declarations of one Swift file, found line by line: `public`/`open` declarations at
/// any depth (attributes and modifiers allowed before them; extensions are not declarations) and the
/// cases of public enums, each with whether a `///` or `/** */` comment stands right above it
/// (attribute lines in between allowed).
struct PublicDeclarationScan {
    /// One declaration.
    struct Declaration {
        /// 1-based line.
        var line: Int
        /// The line's text.
        var text: String
        /// Whether a doc comment precedes it.
        var documented: Bool
    }

    /// The declarations in file order.
    private(set) var declarations: [Declaration] = []
    /// The declared names (types, members, enum cases).
    private(set) var names: Set<String> = []

    private static let modifiers = "(?:(?:nonisolated(?:\\(unsafe\\))?|final|static|class(?=\\s+(?:func|var|let|subscript))|override|indirect|mutating|required|convenience|dynamic|@[\\w.]+(?:\\([^)]*\\))?)\\s+)*"
    private static let declaration = try! NSRegularExpression(
        pattern: "^\\s*\(modifiers)(?:public|open)(?!\\s*\\()\\s+\(modifiers)(\\w+)\\s*([\\w`]+)?")
    private static let attribute = try! NSRegularExpression(pattern: "^\\s*@[\\w.]+(?:\\(.*\\))?\\s*$")
    private static let enumCase = try! NSRegularExpression(pattern: "^\\s*(?:indirect\\s+)?case\\s+(\\w+)")
    private static let string = try! NSRegularExpression(pattern: "\"(?:\\\\.|[^\"\\\\])*\"")

    init(text: String) {
        let lines = text.components(separatedBy: "\n")
        // Type bodies being read: the brace depth inside them, and whether each is a public enum.
        var bodies: [(depth: Int, publicEnum: Bool)] = []
        var depth = 0
        var inBlockComment = false, inMultilineString = false
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if inBlockComment {
                if trimmed.contains("*/") { inBlockComment = false }
                continue
            }
            if trimmed.hasPrefix("/*") && !trimmed.contains("*/") { inBlockComment = true; continue }
            if trimmed.components(separatedBy: "\"\"\"").count % 2 == 0 { inMultilineString.toggle(); continue }
            if inMultilineString || trimmed.hasPrefix("//") { continue }
            let code = Self.replacing(Self.string, in: String(line.components(separatedBy: "//")[0]), with: "\"\"")
            let range = NSRange(code.startIndex..., in: code)
            let match = Self.declaration.firstMatch(in: code, range: range)
            let keyword = match.flatMap { Range($0.range(at: 1), in: code) }.map { String(code[$0]) }
            if let match, keyword != "extension" {
                declarations.append(Declaration(line: index + 1, text: trimmed, documented: Self.documented(lines, above: index)))
                let declared = Range(match.range(at: 2), in: code).map { String(code[$0]).replacingOccurrences(of: "`", with: "") }
                if let name = ["init", "subscript"].contains(keyword ?? "") ? keyword : declared { names.insert(name) }
            } else if let last = bodies.last, last.depth == depth, last.publicEnum,
                      let caseMatch = Self.enumCase.firstMatch(in: code, range: range) {
                declarations.append(Declaration(line: index + 1, text: trimmed, documented: Self.documented(lines, above: index)))
                names.insert(String(code[Range(caseMatch.range(at: 1), in: code)!]))
                // `case a, b` declares several: record every name.
                for extra in code.split(separator: ",").dropFirst() {
                    if let name = extra.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" }).first { names.insert(String(name)) }
                }
            }
            let opens = code.filter { $0 == "{" }.count, closes = code.filter { $0 == "}" }.count
            if opens > closes {
                let isEnum = code.range(of: "\\benum\\s+\\w+", options: .regularExpression) != nil
                let isType = isEnum || code.range(of: "\\b(struct|class|actor|protocol|extension)\\b", options: .regularExpression) != nil
                if isType { bodies.append((depth + 1, isEnum && match != nil)) }
            }
            depth += opens - closes
            while let last = bodies.last, last.depth > depth { bodies.removeLast() }
        }
    }

    private static func documented(_ lines: [String], above index: Int) -> Bool {
        var j = index - 1
        while j >= 0, attribute.firstMatch(in: lines[j], range: NSRange(lines[j].startIndex..., in: lines[j])) != nil { j -= 1 }
        guard j >= 0 else { return false }
        let above = lines[j].trimmingCharacters(in: .whitespaces)
        return above.hasPrefix("///") || above.hasSuffix("*/")
    }

    private static func replacing(_ regex: NSRegularExpression, in text: String, with template: String) -> String {
        regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }
}
