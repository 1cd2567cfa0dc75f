import BNConvCore

/// The protobuf wire format at the level of fields: where each field of a message lies in the bytes,
/// without decoding it. Wire format facts: protobuf encoding docs (varint keys `field << 3 | type`,
/// wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32; groups 3/4 are not accepted).
///
/// Used to split a GraphDef into its NodeDefs (so each is decoded, and written back, on its own)
/// and to find the `tensor_content` bytes inside a NodeDef without copying them.
enum ProtobufWire {
    /// One field as it lies in a buffer.
    struct Field: Equatable, Sendable {
        /// The field number.
        var number: Int
        /// The wire type (0, 1, 2 or 5).
        var wireType: Int
        /// The whole field: key, length prefix and value.
        var range: Range<Int>
        /// The value: the payload of a length-delimited field, the value bytes otherwise.
        var payload: Range<Int>
    }

    /// The fields of the message held in `range` of `bytes`, in order; nil when the bytes are not
    /// a well-formed sequence of fields (a truncated varint, a length past the end, a bad wire type).
    static func fields(in bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [Field]? {
        var fields = [Field]()
        var offset = range.lowerBound
        let end = range.upperBound
        func varint() -> UInt64? { decodeVarint(bytes, at: &offset, end: end) }
        while offset < end {
            let start = offset
            guard let key = varint(), key >> 3 > 0, key >> 3 <= UInt64(Int32.max) else { return nil }
            let wireType = Int(key & 7)
            let valueStart: Int
            switch wireType {
            case 0:
                valueStart = offset
                guard varint() != nil else { return nil }
            case 1, 5:
                valueStart = offset
                let size = wireType == 1 ? 8 : 4
                guard end - offset >= size else { return nil }
                offset += size
            case 2:
                guard let length = varint(), length <= UInt64(end - offset) else { return nil }
                valueStart = offset
                offset += Int(length)
            default:
                return nil
            }
            fields.append(Field(number: Int(key >> 3), wireType: wireType, range: start..<offset, payload: valueStart..<offset))
        }
        return fields
    }

    /// The varint starting at `offset` of `bytes` (read no further than `end`), advancing `offset`
    /// past it; nil when it runs past `end` or beyond 64 bits (protobuf encoding guide: base-128,
    /// least significant group first, high bit set on every byte but the last).
    @inline(__always)
    static func decodeVarint<Bytes: RandomAccessCollection>(_ bytes: Bytes, at offset: inout Int, end: Int) -> UInt64?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end && shift < 64 {
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// `value` as a varint.
    static func varint(_ value: Int) -> [UInt8] {
        var v = UInt64(value)
        var out = [UInt8]()
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    /// The key and length prefix of a length-delimited field `number` holding `length` bytes.
    static func lengthDelimitedHeader(field number: Int, length: Int) -> [UInt8] {
        varint(number << 3 | 2) + varint(length)
    }
}
