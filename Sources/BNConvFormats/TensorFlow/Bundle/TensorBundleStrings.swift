import BNConvInterop

/// How a tensor bundle stores a DT_STRING tensor (`tensor_bundle.cc`, `WriteStringTensor` and
/// `ReadStringTensor`): each element's length as a varint64, then a 4-byte little-endian masked
/// CRC-32C of the lengths, then the elements' bytes one after the other.
///
/// The entry's checksum is not the CRC of these bytes: it runs over each length as a little-endian
/// uint32 (uint64 for a length of 2^32 or more), then the 4 stored bytes of the length checksum,
/// then the elements' bytes; the length checksum is the masked CRC of the first part.
enum TensorBundleStrings {
    /// The stored bytes of `values` and the unmasked CRC-32C TensorFlow records for them.
    static func encode(_ values: [[UInt8]]) -> (bytes: [UInt8], crc: UInt32) {
        var bytes = [UInt8]()
        var crc: UInt32 = 0
        for value in values {
            TableCoding.appendVarint(UInt64(value.count), to: &bytes)
            crc = extendLength(crc, UInt64(value.count))
        }
        var checksum = [UInt8]()
        TableCoding.appendFixed32(CRC32C.masked(crc), to: &checksum)
        bytes.append(contentsOf: checksum)
        crc = CRC32C.extend(crc, checksum)
        for value in values {
            bytes.append(contentsOf: value)
            crc = CRC32C.extend(crc, value)
        }
        return (bytes, crc)
    }

    /// `crc` extended by a length as TensorFlow checksums it: 4 little-endian bytes, or 8 for a
    /// length over `UInt32.max`.
    private static func extendLength(_ crc: UInt32, _ length: UInt64) -> UInt32 {
        var raw = [UInt8]()
        if length <= UInt64(UInt32.max) {
            TableCoding.appendFixed32(UInt32(length), to: &raw)
        } else {
            TableCoding.appendFixed64(length, to: &raw)
        }
        return CRC32C.extend(crc, raw)
    }

    /// The `count` elements stored in `bytes` and the unmasked CRC-32C of TensorFlow's checksum
    /// sequence; throws a plain problem (the caller names the file and the key) when the lengths
    /// run past the bytes, the length checksum does not match, or the elements do not end exactly
    /// at the end of the bytes. Nothing is allocated beyond what the bytes hold: each element's
    /// length is checked against the bytes left before it is copied.
    static func decode(_ bytes: UnsafeRawBufferPointer, count: Int) throws(TensorBundleStringsProblem) -> (values: [[UInt8]], crc: UInt32) {
        // No bytes at all for no strings: TensorFlow's reader takes it (its writer stores the 4-byte
        // checksum even then).
        if bytes.isEmpty && count == 0 { return ([], 0) }
        guard count <= bytes.count else {
            throw TensorBundleStringsProblem("\(count) strings need at least \(count) bytes of lengths, but only \(bytes.count) bytes are stored")
        }
        var at = 0
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        var crc: UInt32 = 0
        var total = 0
        for i in 0..<count {
            guard let length = TableCoding.varint(bytes, at: &at, end: bytes.count) else {
                throw TensorBundleStringsProblem("the length of string \(i) runs past the \(bytes.count) stored bytes")
            }
            guard length <= UInt64(bytes.count) else {
                throw TensorBundleStringsProblem("string \(i) declares \(length) bytes, more than the \(bytes.count) stored")
            }
            crc = extendLength(crc, length)
            lengths.append(Int(length))
            total += Int(length)
            guard total <= bytes.count else {
                throw TensorBundleStringsProblem("the strings declare more bytes than the \(bytes.count) stored")
            }
        }
        guard bytes.count - at >= 4 else {
            throw TensorBundleStringsProblem("the stored bytes end before the 4-byte checksum of the string lengths")
        }
        let stored = TableCoding.fixed32(bytes, at: at)
        guard CRC32C.unmasked(stored) == crc else {
            throw TensorBundleStringsProblem("the checksum of the string lengths does not match (stored 0x\(String(CRC32C.unmasked(stored), radix: 16)), computed 0x\(String(crc, radix: 16)))")
        }
        crc = CRC32C.extend(crc, UnsafeRawBufferPointer(rebasing: bytes[at..<(at + 4)]))
        at += 4
        guard total == bytes.count - at else {
            throw TensorBundleStringsProblem("the strings' lengths add up to \(total) bytes, but \(bytes.count - at) follow the lengths")
        }
        var values: [[UInt8]] = []
        values.reserveCapacity(count)
        for length in lengths {
            let piece = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)])
            values.append(Array(piece))
            crc = CRC32C.extend(crc, piece)
            at += length
        }
        return (values, crc)
    }
}
