/// TensorFlow's order-preserving encoding of numbers and strings (`tensorflow/core/lib/strings/
/// ordered_code.{h,cc}`), the part of it that tensor-bundle slice keys use: the encoded bytes sort
/// as the values do.
///
/// - an unsigned number (`WriteNumIncreasing`): one byte giving how many bytes follow, then the
///   value big-endian without leading zero bytes (0 is the single byte 0x00);
/// - a string (`WriteString`): its bytes with 0x00 written as 0x00 0xFF and 0xFF as 0xFF 0x00, then
///   the separator 0x00 0x01;
/// - a signed number (`WriteSignedNumIncreasing`): 1 to 10 bytes, big-endian two's complement, whose
///   leading bits are the sign (1 for non-negative) repeated once per byte after the first, then
///   the opposite bit: n bytes hold the numbers in [-2^(7n-1), 2^(7n-1)).
enum OrderedCode {
    /// Appends `value` as `WriteNumIncreasing` does.
    static func appendNumIncreasing(_ value: UInt64, to out: inout [UInt8]) {
        let length = (64 - value.leadingZeroBitCount + 7) / 8
        out.append(UInt8(length))
        for i in stride(from: length - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    /// Appends `bytes` as `WriteString` does: escaped, then the separator.
    static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case 0x00: out.append(contentsOf: [0x00, 0xFF])
            case 0xFF: out.append(contentsOf: [0xFF, 0x00])
            default: out.append(byte)
            }
        }
        out.append(contentsOf: [0x00, 0x01])
    }

    /// The header bits of an encoding of `length` bytes, in its first two bytes (`kLengthToHeaderBits`).
    private static let headerBits: [(UInt8, UInt8)] = [
        (0, 0), (0x80, 0), (0xC0, 0), (0xE0, 0), (0xF0, 0), (0xF8, 0), (0xFC, 0), (0xFE, 0), (0xFF, 0), (0xFF, 0x80), (0xFF, 0xC0),
    ]

    /// Appends `value` as `WriteSignedNumIncreasing` does.
    static func appendSignedNumIncreasing(_ value: Int64, to out: inout [UInt8]) {
        let x = UInt64(bitPattern: value < 0 ? ~value : value)
        let bits = 64 - x.leadingZeroBitCount    // Log2Floor64(x) + 1, 0 for 0
        let length = (bits + 7) / 7              // kBitsToLength: n bytes hold bits + 1 <= 7n
        let sign: UInt8 = value < 0 ? 0xFF : 0x00
        var buffer = [sign, sign]
        for i in 0..<8 { buffer.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> UInt64(56 - 8 * i))) }
        let begin = buffer.count - length
        buffer[begin] ^= headerBits[length].0
        if length > 1 { buffer[begin + 1] ^= headerBits[length].1 }
        out.append(contentsOf: buffer[begin...])
    }

    /// Reads a `WriteNumIncreasing` number at `at`, advancing past it; nil when malformed.
    static func readNumIncreasing(_ bytes: [UInt8], at: inout Int) -> UInt64? {
        guard at < bytes.count else { return nil }
        let length = Int(bytes[at])
        guard length <= 8, length <= bytes.count - at - 1 else { return nil }
        var value: UInt64 = 0
        for i in 0..<length { value = value << 8 | UInt64(bytes[at + 1 + i]) }
        at += 1 + length
        return value
    }

    /// Reads a `WriteString` string at `at`, advancing past its separator; nil when malformed.
    static func readString(_ bytes: [UInt8], at: inout Int) -> [UInt8]? {
        var out = [UInt8]()
        var i = at
        while i + 1 < bytes.count {
            let byte = bytes[i]
            if byte == 0x00 {
                switch bytes[i + 1] {
                case 0x01: at = i + 2; return out
                case 0xFF: out.append(0x00)
                default: return nil
                }
                i += 2
            } else if byte == 0xFF {
                guard bytes[i + 1] == 0x00 else { return nil }
                out.append(0xFF)
                i += 2
            } else {
                out.append(byte)
                i += 1
            }
        }
        return nil
    }

    /// Reads a `WriteSignedNumIncreasing` number at `at`, advancing past it; nil when malformed or
    /// not the shortest encoding of its value.
    static func readSignedNumIncreasing(_ bytes: [UInt8], at: inout Int) -> Int64? {
        guard at < bytes.count else { return nil }
        let negative = bytes[at] & 0x80 == 0
        let flip: UInt8 = negative ? 0xFF : 0x00
        // The count of leading bits equal to the sign bit, over the first two bytes, is the length.
        var length = 0
        var bitIndex = 0
        while bitIndex < 16 {
            let byteIndex = at + bitIndex / 8
            guard byteIndex < bytes.count else { return nil }
            let bit = ((bytes[byteIndex] ^ flip) >> (7 - UInt8(bitIndex % 8))) & 1
            if bit == 0 { break }
            length += 1
            bitIndex += 1
        }
        guard length >= 1, length <= 10, length <= bytes.count - at else { return nil }
        var buffer = Array(bytes[at..<(at + length)])
        buffer[0] ^= headerBits[length].0
        if length > 1 { buffer[1] ^= headerBits[length].1 }
        // With the header bits taken off, the bytes are the value's two's complement, big-endian,
        // sign-extended: the re-encoding below refuses any other spelling of it.
        var value: UInt64 = negative ? ~0 : 0
        for byte in buffer.suffix(8) { value = value << 8 | UInt64(byte) }
        let result = Int64(bitPattern: value)
        var check = [UInt8]()
        appendSignedNumIncreasing(result, to: &check)
        guard check.count == length, check[...] == bytes[at..<(at + length)] else { return nil }
        at += length
        return result
    }
}
