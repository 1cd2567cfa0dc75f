import BNConvCore
import BNConvModel
import BNConvInterop

/// The header of a `.npy` file (docs/formats.md, NumPy .npy): the dtype string, the order flag and the shape,
/// parsed from and written as numpy's Python dict literal.
struct NumPyHeader: Equatable {
    /// The `descr` dtype string, e.g. `<f4`.
    var descr: String
    /// Whether the data is column-major (`fortran_order`).
    var fortranOrder: Bool
    /// The shape; empty for a scalar.
    var shape: [Int]

    /// The dtypes bnconv reads, by `descr` (`=` is native order, little-endian here).
    static let readable: [String: DType] = [
        "<f4": .float32, "<f2": .float16, "<f8": .float64, "|u1": .uint8, "<u1": .uint8, "|i1": .int8,
        "<i2": .int16, "<i4": .int32, "<i8": .int64, "|b1": .bool,
        "=f4": .float32, "=f2": .float16, "=f8": .float64, "=i4": .int32, "=i8": .int64,
    ]

    /// The `descr` bnconv writes for `dtype`, or `nil` when numpy has no such type (bfloat16).
    static func descr(for dtype: DType) -> String? {
        switch dtype {
        case .float32: return "<f4"
        case .float16: return "<f2"
        case .float64: return "<f8"
        case .uint8: return "|u1"
        case .int8: return "|i1"
        case .int16: return "<i2"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .bool: return "|b1"
        case .bfloat16: return nil
        }
    }

    /// Parses the dict literal; throws a plain message (the reader adds the file name).
    init(parsing text: String) throws {
        var scanner = Scanner(text)
        var descr: String?, fortran: Bool?, shape: [Int]?
        try scanner.expect("{")
        while true {
            scanner.skipSpaces()
            if scanner.consume("}") { break }
            let key = try scanner.string()
            try scanner.expect(":")
            switch key {
            case "descr":
                scanner.skipSpaces()
                if scanner.peek == "[" { throw NumPyHeaderProblem("structured dtypes are not supported") }
                descr = try scanner.string()
            case "fortran_order": fortran = try scanner.bool()
            case "shape": shape = try scanner.tuple()
            default: throw NumPyHeaderProblem("unexpected header key '\(key)'")
            }
            scanner.skipSpaces()
            if scanner.consume(",") { continue }
            try scanner.expect("}")
            break
        }
        guard let descr, let fortran, let shape else {
            throw NumPyHeaderProblem("header lacks one of 'descr', 'fortran_order', 'shape'")
        }
        self.descr = descr
        self.fortranOrder = fortran
        self.shape = shape
    }

    /// Creates a header from parts.
    init(descr: String, fortranOrder: Bool = false, shape: [Int]) {
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
    }

    /// numpy's spelling: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    var literal: String {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        return "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(dims), }"
    }

    /// A tiny scanner over the header's Python literal.
    private struct Scanner {
        let chars: [Character]
        var index = 0
        init(_ text: String) { chars = Array(text) }
        var peek: Character? { index < chars.count ? chars[index] : nil }
        mutating func skipSpaces() { while let c = peek, c == " " || c == "\t" || c == "\n" { index += 1 } }
        mutating func consume(_ c: Character) -> Bool {
            skipSpaces()
            if peek == c { index += 1; return true }
            return false
        }
        mutating func expect(_ c: Character) throws {
            guard consume(c) else { throw NumPyHeaderProblem("expected '\(c)' at character \(index)") }
        }
        mutating func string() throws -> String {
            skipSpaces()
            guard let q = peek, q == "'" || q == "\"" else { throw NumPyHeaderProblem("expected a string at character \(index)") }
            index += 1
            var out = ""
            while let c = peek, c != q { out.append(c); index += 1 }
            try expect(q)
            return out
        }
        mutating func bool() throws -> Bool {
            skipSpaces()
            for (word, value) in [("True", true), ("False", false)] where chars[index...].starts(with: word) {
                index += word.count
                return value
            }
            throw NumPyHeaderProblem("expected True or False at character \(index)")
        }
        mutating func tuple() throws -> [Int] {
            try expect("(")
            var dims: [Int] = []
            while true {
                skipSpaces()
                if consume(")") { break }
                var digits = ""
                while let c = peek, c.isNumber { digits.append(c); index += 1 }
                if peek == "L" { index += 1 }   // Python 2 long suffix
                guard let d = Int(digits) else { throw NumPyHeaderProblem("bad shape entry at character \(index)") }
                dims.append(d)
                if consume(",") { continue }
                try expect(")")
                break
            }
            return dims
        }
    }
}
