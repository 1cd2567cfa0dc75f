import BNConvCore
import BNConvModel
import BNConvInterop

/// A JSON value that keeps what Foundation's JSONSerialization loses: the order of object keys
/// and the exact text of every number (so `1e-05` stays `1e-05`, `NaN` stays `NaN`).
///
/// Keras configs are parsed into it, edited in place, and written back in Python `json.dumps`
/// style (``serialized()``), so an untouched config comes back byte for byte.
public enum JSONValue: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its literal text (`3`, `0.001`, `1e-05`, `NaN`, `Infinity`, `-Infinity`).
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object with its keys in written order.
    case object(JSONObject)

    /// Parses JSON text (Python's `NaN`/`Infinity` tokens accepted).
    public static func parse(_ text: String) throws -> JSONValue {
        var parser = JSONParser(text)
        return try parser.parseDocument()
    }

    /// The value as text in Python `json.dumps` style: `", "` and `": "` separators, non-ASCII
    /// escaped as `\uXXXX`, numbers as written.
    public func serialized() -> String {
        var out = ""
        JSONSerializer.write(self, into: &out)
        return out
    }

    /// A number from an integer.
    public static func integer(_ value: Int) -> JSONValue { .number(String(value)) }

    /// The member `key` of an object, or `nil` (also for non-objects).
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The element `index` of an array, or `nil` (also for non-arrays and out of range).
    public subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }

    /// The string, if this is one.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The boolean, if this is one.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// The number as a Double, if this is a number (`NaN`/`Infinity` included).
    public var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(text)
        }
    }
    /// The number as an Int, if this is an integral number.
    public var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        if let i = Int(text) { return i }
        if let d = Double(text), d.rounded() == d, abs(d) < 1e15 { return Int(d) }
        return nil
    }
    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// The object, if this is one.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    /// Whether this is `null`.
    public var isNull: Bool { self == .null }
}

/// A JSON object: members in written order, with lookup by key.
public struct JSONObject: Equatable, Sendable {
    /// One `key: value` member.
    public struct Member: Equatable, Sendable {
        /// The key.
        public var key: String
        /// The value.
        public var value: JSONValue
        /// Creates a member.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in order.
    public var members: [Member]

    /// Creates an object from members in order.
    public init(_ members: [Member] = []) { self.members = members }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// The value of `key`; setting `nil` removes the member, setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }
}
