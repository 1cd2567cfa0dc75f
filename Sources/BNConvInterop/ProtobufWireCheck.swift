import BNConvCore

/// Explains why bytes are not a protobuf message, by walking the top level of the wire format.
///
/// protobuf-c's unpack only returns NULL on bad input; this walk names the byte offset and the
/// problem (a truncated varint, a length prefix past the end, an invalid wire type) so the user
/// gets one clear line. Wire format facts: protobuf encoding docs (varint, wire types 0, 1, 2, 5;
/// groups 3/4 are deprecated).
enum ProtobufWireCheck {
    /// The first problem found in the top-level fields of `bytes`, or `nil` if they look well formed.
    static func firstProblem(in bytes: [UInt8]) -> String? {
        var offset = 0
        func varint() -> UInt64? { ProtobufWire.decodeVarint(bytes, at: &offset, end: bytes.count) }
        if bytes.isEmpty { return "the file is empty" }
        while offset < bytes.count {
            let start = offset
            guard let key = varint() else { return "truncated field key at byte \(start)" }
            let field = key >> 3
            guard field > 0 else { return "invalid field number 0 at byte \(start)" }
            switch key & 7 {
            case 0:
                guard varint() != nil else { return "field \(field) at byte \(start): truncated varint" }
            case 1:
                guard offset + 8 <= bytes.count else { return "field \(field) at byte \(start): truncated 8-byte value" }
                offset += 8
            case 2:
                guard let length = varint() else { return "field \(field) at byte \(start): truncated length prefix" }
                let remaining = UInt64(bytes.count - offset)
                guard length <= remaining else {
                    return "field \(field) at byte \(start) declares \(length) bytes but only \(remaining) remain (truncated, or not a protobuf file)"
                }
                offset += Int(length)
            case 5:
                guard offset + 4 <= bytes.count else { return "field \(field) at byte \(start): truncated 4-byte value" }
                offset += 4
            default:
                return "field \(field) at byte \(start) has invalid wire type \(key & 7)"
            }
        }
        return nil
    }
}
