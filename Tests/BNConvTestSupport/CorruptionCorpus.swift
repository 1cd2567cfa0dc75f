import Foundation
@testable import BNConvVerify

/// A deterministic generator of damaged variants of one valid file: truncations, byte flips,
/// zeroed / maxed / swapped length fields, and same-length edits that keep the container valid
/// but change what it declares (dtype codes, dimensions, config numbers).
///
/// Seeded with SplitMix64, so a failing variant is reproduced by its seed and index, which every
/// variant carries in its `label`.
struct CorruptionCorpus {
    /// One damaged file.
    struct Variant {
        /// How it was made, e.g. `truncate@1234` or `flip 3 bytes (seed 7/42)`.
        var label: String
        /// Its bytes.
        var bytes: [UInt8]
    }

    /// What a container's length fields look like.
    enum Container {
        /// Protobuf (GraphDef, ONNX): varint length prefixes of length-delimited fields, found by
        /// walking the message and any field that parses as a nested message.
        case protobuf
        /// HDF5: little-endian 8-byte sizes and addresses; the superblock and object headers.
        case hdf5
        /// Zip: the sizes and offsets of local headers, the central directory and its end record.
        case zip
        /// `.npy`: the header length and the header's `descr` and `shape`.
        case npy
        /// Plain text (a Keras config JSON): no length fields; numbers and dtype names edited.
        case text
    }

    /// SplitMix64: small, fast, deterministic.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D4_9BB1_33B1_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    let original: [UInt8]
    let container: Container
    let seed: UInt64

    /// At least `count` variants, in a fixed order for a given seed: a quarter truncations
    /// (evenly spread plus the first bytes), a quarter random flips, a quarter length fields, a
    /// quarter same-length edits of declared values.
    func variants(count: Int) -> [Variant] {
        var random = Random(state: seed)
        var out: [Variant] = []
        let quarter = (count + 3) / 4
        // Truncations: 0..15, then evenly spread offsets.
        for cut in 0..<min(16, original.count) { out.append(Variant(label: "truncate@\(cut)", bytes: Array(original.prefix(cut)))) }
        let spread = max(quarter - 16, 1)
        for i in 0..<spread {
            let cut = 16 + (original.count - 17) * i / spread + random.below(3)
            if cut < original.count { out.append(Variant(label: "truncate@\(cut)", bytes: Array(original.prefix(cut)))) }
        }
        // Random flips of 1 to 8 bytes.
        for i in 0..<quarter {
            var bytes = original
            let n = 1 + random.below(8)
            for _ in 0..<n { bytes[random.below(bytes.count)] ^= UInt8(1 + random.below(255)) }
            out.append(Variant(label: "flip \(n) bytes (\(seed)/\(i))", bytes: bytes))
        }
        // Length fields.
        let fields = lengthFields()
        if !fields.isEmpty {
            for i in 0..<quarter {
                var bytes = original
                let field = fields[random.below(fields.count)]
                let how = random.below(4)
                switch how {
                case 0: Self.put(0, at: field, in: &bytes)
                case 1: Self.put(UInt64.max, at: field, in: &bytes)
                case 2: Self.put(Self.get(field, in: bytes) &+ UInt64(1 + random.below(64)), at: field, in: &bytes)
                default:
                    let other = fields[random.below(fields.count)]
                    let a = Self.get(field, in: bytes), b = Self.get(other, in: bytes)
                    Self.put(b, at: field, in: &bytes)
                    Self.put(a, at: other, in: &bytes)
                }
                out.append(Variant(label: "length field @\(field.offset) \(["zeroed", "maxed", "grown", "swapped"][how]) (\(seed)/\(i))", bytes: bytes))
            }
        }
        // Declared values.
        out += declaredValueEdits(count: count - out.count, random: &random)
        return out
    }

    // MARK: Length fields

    /// A field of `width` bytes at `offset`: a varint (padded to its width) or a little-endian integer.
    struct Field {
        var offset: Int
        var width: Int
        var isVarint: Bool
    }

    /// Reads a field's value.
    static func get(_ f: Field, in bytes: [UInt8]) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<f.width {
            let b = UInt64(bytes[f.offset + i])
            v |= f.isVarint ? (b & 0x7F) << (7 * UInt64(i)) : b << (8 * UInt64(i))
        }
        return v
    }

    /// Writes a value into a field without changing its width (a varint keeps its continuation
    /// bits; the value is truncated to what the width holds).
    static func put(_ value: UInt64, at f: Field, in bytes: inout [UInt8]) {
        for i in 0..<f.width {
            if f.isVarint {
                let part = UInt8(truncatingIfNeeded: (i < 10 ? value >> (7 * UInt64(i)) : 0) & 0x7F)
                bytes[f.offset + i] = part | (i < f.width - 1 ? 0x80 : 0)
            } else {
                bytes[f.offset + i] = UInt8(truncatingIfNeeded: i < 8 ? value >> (8 * UInt64(i)) : 0)
            }
        }
    }

    /// The length (and, for protobuf, varint value) fields of the container.
    func lengthFields() -> [Field] {
        switch container {
        case .protobuf:
            var lengths: [Field] = [], varints: [Field] = []
            Self.walkProtobuf(original, 0, original.count, depth: 0, lengths: &lengths, varints: &varints)
            return lengths
        case .hdf5:
            // Superblock sizes/addresses (bytes 8..96), then 8-byte words across the file.
            var fields = stride(from: 24, to: min(96, original.count - 8), by: 8).map { Field(offset: $0, width: 8, isVarint: false) }
            fields += stride(from: 96, to: original.count - 8, by: 8).map { Field(offset: $0, width: 8, isVarint: false) }
            return fields
        case .zip:
            var fields: [Field] = []
            for i in 0..<max(0, original.count - 46) where original[i] == 0x50 && original[i + 1] == 0x4B {
                switch (original[i + 2], original[i + 3]) {
                case (3, 4): fields += [(18, 4), (22, 4), (26, 2), (28, 2)].map { Field(offset: i + $0.0, width: $0.1, isVarint: false) }
                case (1, 2): fields += [(20, 4), (24, 4), (28, 2), (30, 2), (42, 4)].map { Field(offset: i + $0.0, width: $0.1, isVarint: false) }
                default: break
                }
            }
            if let end = (0..<max(0, original.count - 21)).last(where: { original[$0] == 0x50 && original[$0 + 1] == 0x4B && original[$0 + 2] == 5 && original[$0 + 3] == 6 }) {
                fields += [(8, 2), (10, 2), (12, 4), (16, 4)].map { Field(offset: end + $0.0, width: $0.1, isVarint: false) }
            }
            return fields
        case .npy:
            return original[6] == 1 ? [Field(offset: 8, width: 2, isVarint: false)] : [Field(offset: 8, width: 4, isVarint: false)]
        case .text:
            return []
        }
    }

    /// Collects the varint length prefixes and varint values of a protobuf message, descending
    /// into length-delimited fields that parse as messages (to depth 6).
    static func walkProtobuf(_ b: [UInt8], _ start: Int, _ end: Int, depth: Int, lengths: inout [Field], varints: inout [Field]) {
        var lens: [Field] = [], vals: [Field] = [], nested: [(Int, Int)] = []
        var i = start
        func varint() -> (UInt64, Int)? {
            var v: UInt64 = 0, shift: UInt64 = 0, at = i
            while at < end, shift < 64 {
                let byte = b[at]; at += 1
                v |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { let w = at - i; i = at; return (v, w) }
                shift += 7
            }
            return nil
        }
        while i < end {
            guard let (key, _) = varint(), key >> 3 > 0 else { return }
            switch key & 7 {
            case 0:
                let at = i
                guard let (_, w) = varint() else { return }
                vals.append(Field(offset: at, width: w, isVarint: true))
            case 1: i += 8
            case 5: i += 4
            case 2:
                let at = i
                guard let (len, w) = varint(), len <= UInt64(end - i) else { return }
                lens.append(Field(offset: at, width: w, isVarint: true))
                nested.append((i, i + Int(len)))
                i += Int(len)
            default: return
            }
            if i > end { return }
        }
        lengths += lens
        varints += vals
        if depth < 6 {
            for (s, e) in nested where e - s >= 2 {
                walkProtobuf(b, s, e, depth: depth + 1, lengths: &lengths, varints: &varints)
            }
        }
    }

    // MARK: Declared values

    /// Same-length edits that keep the container well formed but change a declared dtype, shape or
    /// number: protobuf varint values; `.npy` header descr/shape; config text in HDF5 and zip
    /// (a digit or a dtype name replaced in place).
    func declaredValueEdits(count: Int, random: inout Random) -> [Variant] {
        var out: [Variant] = []
        switch container {
        case .protobuf:
            var lengths: [Field] = [], varints: [Field] = []
            Self.walkProtobuf(original, 0, original.count, depth: 0, lengths: &lengths, varints: &varints)
            guard !varints.isEmpty else { break }
            for i in 0..<count {
                var bytes = original
                let f = varints[random.below(varints.count)]
                let old = Self.get(f, in: bytes)
                let new: UInt64 = [0, 1, old &+ 1, old ^ 3, 1 << 40][random.below(5)]
                Self.put(new, at: f, in: &bytes)
                out.append(Variant(label: "varint @\(f.offset) \(old)->\(Self.get(f, in: bytes)) (\(seed)/\(i))", bytes: bytes))
            }
        case .npy:
            let descrs = ["<f8", "<i4", "|b1", "<f2", ">f4", "|O", "<c8", "<U3", "<f4"]
            for i in 0..<count {
                let descr = descrs[random.below(descrs.count)]
                let shape: String = ["(0,)", "(1,)", "(100000, 100000)", "(2, 3, 4, 5, 6)", "(-1, 3)", "(9223372036854775807, 2)", "()", "(3,", "2, 3"][random.below(9)]
                out.append(Variant(label: "npy header descr \(descr) shape \(shape) (\(seed)/\(i))",
                                   bytes: Self.npy(descr: descr, shape: shape, data: npyData())))
            }
        case .hdf5, .zip, .text:
            let patterns = ["\"filters\": ", "\"units\": ", "\"kernel_size\": [", "\"axis\": ", "\"epsilon\": ", "\"strides\": [",
                            "\"batch_input_shape\": [null, ", "\"batch_shape\": [null, ", "float32", "\"groups\": "]
            var sites: [(Int, String)] = []
            for p in patterns {
                let needle = Array(p.utf8)
                var i = 0
                while i + needle.count < original.count {
                    if original[i] == needle[0], Array(original[i..<(i + needle.count)]) == needle { sites.append((i + needle.count, p)) }
                    i += 1
                }
            }
            for i in 0..<count {
                var bytes = original
                if sites.isEmpty {
                    let at = random.below(bytes.count)
                    bytes[at] = UInt8(random.below(256))
                    out.append(Variant(label: "byte @\(at) set (\(seed)/\(i))", bytes: bytes))
                    continue
                }
                let (at, p) = sites[random.below(sites.count)]
                if p == "float32" {
                    let names = ["float16", "float64", "int8_32", "bfloat1", "uint032"]
                    let name = names[random.below(names.count)]
                    bytes.replaceSubrange((at - 7)..<at, with: Array(name.utf8))
                    out.append(Variant(label: "config dtype float32->\(name) @\(at) (\(seed)/\(i))", bytes: bytes))
                } else {
                    let digits = Array("0123456789-9".utf8)
                    let d = digits[random.below(digits.count)]
                    if at < bytes.count { bytes[at] = d }
                    out.append(Variant(label: "config \(p)\(Character(Unicode.Scalar(d))) @\(at) (\(seed)/\(i))", bytes: bytes))
                }
            }
        }
        return out
    }

    /// The data bytes of an original `.npy` file (after its header).
    func npyData() -> [UInt8] {
        guard original.count >= 10 else { return [] }
        let long = original[6] != 1
        let headerLength = long ? Int(original[8]) | Int(original[9]) << 8 | Int(original[10]) << 16 | Int(original[11]) << 24
                                : Int(original[8]) | Int(original[9]) << 8
        let start = (long ? 12 : 10) + headerLength
        return start <= original.count ? Array(original[start...]) : []
    }

    /// A version 1.0 `.npy` file with a header built from `descr` and `shape` text, holding `data`.
    static func npy(descr: String, shape: String, data: [UInt8]) -> [UInt8] {
        var text = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let total = (10 + text.utf8.count + 1 + 63) / 64 * 64
        text += String(repeating: " ", count: total - 10 - text.utf8.count - 1) + "\n"
        let n = text.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(text.utf8) + data
    }
}
