/// Writes ``JSONValue`` as Python's `json.dumps` does with its defaults (`ensure_ascii=True`,
/// separators `", "` and `": "`), which is how Keras writes `model_config` and `config.json`.
enum JSONSerializer {
    /// Appends `value`'s text to `out`.
    static func write(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let text): out += text
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                write(item, into: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, member) in object.members.enumerated() {
                if i > 0 { out += ", " }
                writeString(member.key, into: &out)
                out += ": "
                write(member.value, into: &out)
            }
            out += "}"
        }
    }

    /// A string with json.dumps's escapes: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, and every
    /// other character outside printable ASCII as lowercase `\uXXXX` (UTF-16 surrogate pairs).
    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value >= 0x20 && scalar.value < 0x7F {
                    out.unicodeScalars.append(scalar)
                } else {
                    for unit in String(scalar).utf16 { out += "\\u" + hex4(unit) }
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ unit: UInt16) -> String {
        let digits = String(unit, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
