import CProtobufC
import BNConvCore

/// Walks a protobuf message on the wire, before protobuf-c unpacks it, and names the first
/// problem: a truncated varint, a length prefix past the end of its enclosing message, an invalid
/// wire type, or messages nested deeper than ``maximumDepth``.
///
/// protobuf-c's unpack only returns NULL on bad input, and it unpacks nested messages by
/// recursion: a 72 KB ONNX `TypeProto` nested 10,000 deep, or a GraphDef `AttrValue.func`
/// 10,000 deep, overflows the stack (SIGSEGV) before it can refuse anything. This walk follows
/// the schema through protobuf-c's own descriptors (a length-delimited field is entered only when
/// the descriptor says it holds a message, so a `bytes` field is never mistaken for one), with an
/// explicit stack instead of recursion, in one pass over the bytes.
///
/// Wire format facts: protobuf encoding docs (varint, wire types 0, 1, 2, 5; groups 3/4 are
/// deprecated and not in any schema bnconv reads). The depth bound is protobuf C++'s default
/// recursion limit (`CodedInputStream::SetRecursionLimit`, 100).
package enum ProtobufWireCheck {
    /// The deepest nesting of messages accepted (the root message is depth 1).
    package static let maximumDepth = 100

    /// The largest serialized message: 2 GiB - 1, protobuf's own limit (a GraphDef or an ONNX
    /// model without external data cannot be larger); what a reader takes from a file at most.
    package static let maximumMessageBytes = Int(Int32.max)

    /// The first problem in `bytes` read as the message `descriptor` describes (nested messages
    /// included), or `nil` if the wire format is sound and no deeper than ``maximumDepth``.
    static func firstProblem(in bytes: [UInt8], descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> String? {
        bytes.withUnsafeBytes { firstProblem(in: $0, descriptor: descriptor) }
    }

    /// ``firstProblem(in:descriptor:)`` for bytes held elsewhere (a mapping of the file).
    static func firstProblem(in bytes: UnsafeRawBufferPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> String? {
        if bytes.isEmpty { return "the file is empty" }
        // `PROTOBUF_C_TYPE_MESSAGE` is the 17th enumerator of protobuf-c.h's ProtobufCType (value 16);
        // the enumerator itself is not visible from Swift.
        // Each message type met gets a number; its message-typed fields are looked up by that
        // number, so the stack holds two integers per open message (no strings, no dictionaries).
        var types: [UnsafePointer<ProtobufCMessageDescriptor>] = []
        var numbers: [UnsafeRawPointer: Int] = [:]
        var messageFields: [[UInt32: Int]] = []
        func number(of d: UnsafePointer<ProtobufCMessageDescriptor>) -> Int {
            if let known = numbers[UnsafeRawPointer(d)] { return known }
            let n = types.count
            numbers[UnsafeRawPointer(d)] = n
            types.append(d)
            messageFields.append([:])
            var map: [UInt32: Int] = [:]
            for i in 0..<Int(d.pointee.n_fields) {
                let field = d.pointee.fields[i]
                if field.type == ProtobufCType(rawValue: 16), let sub = field.descriptor {
                    map[field.id] = number(of: sub.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
                }
            }
            messageFields[n] = map
            return n
        }
        func name(_ type: Int) -> String { String(cString: types[type].pointee.name) }
        // Each open message: where it ends, and its type's number.
        var open: [(end: Int, type: Int)] = [(bytes.count, number(of: descriptor))]
        var offset = 0
        while true {
            while let top = open.last, offset == top.end { open.removeLast() }
            guard let top = open.last else { return nil }
            let end = top.end
            let start = offset
            func varint() -> UInt64? { ProtobufWire.decodeVarint(bytes, at: &offset, end: end) }
            var place: String { open.count > 1 ? " (in \(name(top.type)), nested \(open.count) deep)" : "" }
            guard let key = varint() else { return "truncated field key at byte \(start)\(place)" }
            let field = key >> 3
            guard field > 0, field <= UInt64(UInt32.max) else { return "invalid field number \(field) at byte \(start)\(place)" }
            switch key & 7 {
            case 0:
                guard varint() != nil else { return "field \(field) at byte \(start): truncated varint\(place)" }
            case 1:
                guard end - offset >= 8 else { return "field \(field) at byte \(start): truncated 8-byte value\(place)" }
                offset += 8
            case 2:
                guard let length = varint() else { return "field \(field) at byte \(start): truncated length prefix\(place)" }
                let remaining = UInt64(end - offset)
                guard length <= remaining else {
                    return "field \(field) at byte \(start) declares \(length) bytes but only \(remaining) remain\(place) (truncated, or not a protobuf file)"
                }
                if let sub = messageFields[top.type][UInt32(field)] {
                    guard open.count < maximumDepth else {
                        return "messages are nested more than \(maximumDepth) deep at byte \(start) (field \(field) of \(name(top.type))); refused before unpacking"
                    }
                    open.append((offset + Int(length), sub))
                } else {
                    offset += Int(length)
                }
            case 5:
                guard end - offset >= 4 else { return "field \(field) at byte \(start): truncated 4-byte value\(place)" }
                offset += 4
            default:
                return "field \(field) at byte \(start) has invalid wire type \(key & 7)\(place)"
            }
        }
    }
}
