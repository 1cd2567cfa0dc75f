import Foundation

/// What the standard streams are connected to, and the styling allowed there.
/// Colour and progress bars appear only on a terminal, and never when `NO_COLOR` is set.
enum Terminal {
    /// Whether stderr is a terminal (progress bars go there).
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1
    /// Whether stdout is a terminal.
    static let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
    /// Whether colour is allowed on stdout.
    static let colorEnabled = stdoutIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        && ProcessInfo.processInfo.environment["TERM"] != "dumb"

    /// `text` in an ANSI style when colour is allowed.
    static func style(_ text: String, _ code: String) -> String {
        colorEnabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
    /// Green.
    static func good(_ text: String) -> String { style(text, "32") }
    /// Yellow.
    static func warn(_ text: String) -> String { style(text, "33") }
    /// Red.
    static func bad(_ text: String) -> String { style(text, "31") }
    /// Bold.
    static func bold(_ text: String) -> String { style(text, "1") }

    /// Writes a line to stderr.
    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((oneLine(line) + "\n").utf8))
    }

    /// The longest error line printed; longer ones (a 100 MB node name from a crafted file) keep
    /// their start and end around an ellipsis.
    static let maximumErrorLength = 2000

    /// `text` as one line: line breaks and other control characters (from a C library's message
    /// or a name in the file) shown as spaces or `\u{..}` escapes, the length bounded.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n", "\r", "\t": out.unicodeScalars.append(" ")
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        guard out.count > maximumErrorLength else { return out }
        let keep = maximumErrorLength / 2
        return String(out.prefix(keep)) + " ... " + String(out.suffix(keep))
    }
}
