import CProtobufC
import BNConvCore

/// Owns any protobuf-c message unpacked from bytes, through its descriptor: one generic owner for
/// every schema (ONNX `ModelProto`, TensorFlow `GraphDef`, ...).
///
/// `protobuf_c_message_unpack` allocates the whole tree with protobuf-c's default allocator
/// (`malloc`); `deinit` releases it with `protobuf_c_message_free_unpacked`, which frees every
/// string, array, sub-message and unknown field (docs/formats.md, protobuf-c). Anything spliced into the
/// tree must therefore be `malloc`'d too: use ``ProtobufCAllocation``. Fields the schema leaves out
/// are kept as unknown fields and packed after the known ones, so ``packed()`` of an untouched
/// message gives the input bytes back when the input was in field-number order.
final class ProtobufMessage {
    /// The root message (its `base` member), valid for the owner's lifetime.
    let base: UnsafeMutablePointer<ProtobufCMessage>

    /// Takes ownership of the tree a generated `*__unpack` function returns (for example
    /// `{ onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) }`); `nil` when protobuf-c
    /// refused the bytes (protobuf-c reports no reason: callers explain with ``ProtobufWireCheck``).
    ///
    /// The generated function is used rather than `protobuf_c_message_unpack` with a descriptor
    /// so that the tree records the descriptor's real address, never a Swift temporary copy.
    init?<T>(bytes: [UInt8], unpack: (UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<T>?) {
        guard let root = bytes.withUnsafeBufferPointer(unpack) else { return nil }
        base = UnsafeMutableRawPointer(root).assumingMemoryBound(to: ProtobufCMessage.self)
    }

    /// Takes ownership of a tree built in Swift (every piece `malloc`'d through
    /// ``ProtobufCAllocation`` and each message initialized by its generated `*__init`), so the
    /// same `protobuf_c_message_free_unpacked` releases it.
    init<T>(adopting root: UnsafeMutablePointer<T>) {
        base = UnsafeMutableRawPointer(root).assumingMemoryBound(to: ProtobufCMessage.self)
    }

    /// Takes ownership of the tree `unpack` makes of `bytes` (a raw-buffer version of
    /// ``init(bytes:unpack:)``); `nil` when protobuf-c refused them.
    init?<T>(raw bytes: UnsafeRawBufferPointer, unpack: (Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<T>?) {
        guard let root = unpack(bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)) else { return nil }
        base = UnsafeMutableRawPointer(root).assumingMemoryBound(to: ProtobufCMessage.self)
    }

    /// `bytes` walked on the wire against `descriptor` (``ProtobufWireCheck``: sound, not nested
    /// too deep), then unpacked by protobuf-c with `unpack`; either failing is a
    /// ``CheckpointError`` naming `file`, `place` and the message type `what`.
    static func checked<T>(_ bytes: UnsafeRawBufferPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>, what: String,
                           file: String, place: String = "",
                           unpack: (Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<T>?) throws -> ProtobufMessage {
        if !bytes.isEmpty, let problem = ProtobufWireCheck.firstProblem(in: bytes, descriptor: descriptor) {
            throw CheckpointError(.malformed, file: file, place: place, problem: "not a \(what): \(problem)")
        }
        guard let message = ProtobufMessage(raw: bytes, unpack: unpack) else {
            throw CheckpointError(.malformed, file: file, place: place, problem: "protobuf-c could not decode the \(bytes.count)-byte \(what)")
        }
        return message
    }

    deinit {
        protobuf_c_message_free_unpacked(base, nil)
    }

    /// The root message as its generated struct type (`Onnx__ModelProto`, `Tensorflow__GraphDef`).
    func root<T>(as type: T.Type) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer(base).assumingMemoryBound(to: T.self)
    }

    /// Packs the message into `sink` (protobuf-c's `pack_to_buffer`): written through the sink's
    /// buffer, bytes fields handed over from where they lie, no copy of the whole message made.
    func pack(to sink: ByteSink) {
        let adapter = ProtobufCByteSink(sink)
        let size = protobuf_c_message_get_packed_size(base)
        let written = protobuf_c_message_pack_to_buffer(base, adapter.buffer)
        precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
    }

    /// The message packed again by protobuf-c.
    func packed() -> [UInt8] {
        let size = protobuf_c_message_get_packed_size(base)
        // Uninitialized: protobuf-c writes every byte, so the buffer is touched once.
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let written = protobuf_c_message_pack(base, buffer.baseAddress)
            precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
            count = written
        }
    }
}
