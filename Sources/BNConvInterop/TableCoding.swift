/// The integer encodings of LevelDB's table format, which TensorFlow's tables share
/// (`tensorflow/core/lib/core/coding.{h,cc}`, `leveldb/util/coding.h`): little-endian fixed 32-
/// and 64-bit values, and varints (base-128, least significant group first, the high bit set on
/// every byte but the last; at most 5 bytes for a 32-bit value, 10 for a 64-bit one).
///
/// Readers are given the end of the bytes they may read and return nil rather than read past it.
package enum TableCoding {
    /// The varint at `offset` (read no further than `end`), advancing `offset` past it; nil when it
    /// runs past `end`, takes more than `maxBytes` bytes, or does not fit in `bits` bits.
    @inline(__always)
    package static func varint(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, end: Int, bits: Int = 64) -> UInt64? {
        let maxBytes = (bits + 6) / 7
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var used = 0
        var at = offset
        while at < end && used < maxBytes {
            let byte = bytes[at]
            at += 1
            used += 1
            let group = UInt64(byte & 0x7F)
            if shift == 63 && group > 1 { return nil }   // bits beyond 64
            result |= group << shift
            if byte & 0x80 == 0 {
                if bits < 64 && result >> UInt64(bits) != 0 { return nil }
                offset = at
                return result
            }
            shift += 7
        }
        return nil
    }

    /// The varint of a 32-bit field (a block entry's lengths), as an `Int`.
    @inline(__always)
    package static func varint32(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, end: Int) -> Int? {
        varint(bytes, at: &offset, end: end, bits: 32).map { Int($0) }
    }

    /// The little-endian 32-bit value at `offset` (the caller checked that 4 bytes are there).
    @inline(__always)
    package static func fixed32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The little-endian 64-bit value at `offset` (the caller checked that 8 bytes are there).
    @inline(__always)
    package static func fixed64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Appends `value` as a varint.
    package static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Appends `value` little-endian in 4 bytes.
    package static func appendFixed32(_ value: UInt32, to out: inout [UInt8]) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    /// Appends `value` little-endian in 8 bytes.
    package static func appendFixed64(_ value: UInt64, to out: inout [UInt8]) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }
}
