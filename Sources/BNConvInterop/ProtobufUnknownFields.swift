/// The fields of a message that its schema does not name, as they lie in the encoded bytes, so a
/// message decoded into a Swift copy can be encoded again with them (after the known fields, where
/// protobuf C++ writes them too).
enum ProtobufUnknownFields {
    /// The encoded top-level fields of `bytes` whose numbers are not in `known`, in order; empty
    /// when there are none (or the bytes are not a sequence of fields, which the caller refused).
    static func bytes(in bytes: UnsafeRawBufferPointer, known: ClosedRange<Int>) -> [UInt8] {
        guard let fields = ProtobufWire.fields(in: bytes, 0..<bytes.count) else { return [] }
        var out = [UInt8]()
        for field in fields where !known.contains(field.number) {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[field.range]))
        }
        return out
    }
}
