import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes ``JSONValue`` as Python's `json.dumps` does with its defaults (`ensure_ascii=True`,
/// separators `", "` and `": "`), which is how Keras writes `model_config` and `config.json`.
///
/// The text is built as UTF-8 bytes (all ASCII, by `ensure_ascii`) and turned into a `String`
/// once: appending to a `String` piece by piece costs far more for a large config.
enum JSONSerializer {
    /// Appends `value`'s text to `out`.
    static func write(_ value: JSONValue, into out: inout String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 12)
        write(value, into: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `value`'s text to `out` as UTF-8 bytes.
    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                out.append(UInt8(ascii: " "))
                write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A string with json.dumps's escapes: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, and every
    /// other character outside printable ASCII as lowercase `\uXXXX` (UTF-16 surrogate pairs).
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var plain = true
        for byte in s.utf8 where byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        if plain {
            out.append(contentsOf: s.utf8)
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out.append(contentsOf: "\\\"".utf8)
                case "\\": out.append(contentsOf: "\\\\".utf8)
                case "\n": out.append(contentsOf: "\\n".utf8)
                case "\r": out.append(contentsOf: "\\r".utf8)
                case "\t": out.append(contentsOf: "\\t".utf8)
                case "\u{08}": out.append(contentsOf: "\\b".utf8)
                case "\u{0C}": out.append(contentsOf: "\\f".utf8)
                default:
                    if scalar.value >= 0x20 && scalar.value < 0x7F {
                        out.append(UInt8(truncatingIfNeeded: scalar.value))
                    } else {
                        for unit in String(scalar).utf16 { out.append(contentsOf: ("\\u" + hex4(unit)).utf8) }
                    }
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func hex4(_ unit: UInt16) -> String {
        let digits = String(unit, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
