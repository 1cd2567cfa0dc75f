import CProtobufC
import BNConvCore

/// A protobuf-c `ProtobufCBuffer` that appends to a ``ByteSink``, for the generated
/// `*__pack_to_buffer` functions: a message is packed straight into the output, and a bytes field
/// (a tensor's `tensor_content`) is handed to the sink from where it lies, never copied first.
///
/// The C struct is followed, in the same `malloc`'d block, by an unretained pointer to the sink,
/// which the `append` callback reads back; the sink must outlive this object.
final class ProtobufCByteSink {
    private let block: UnsafeMutableRawPointer
    private static let contextOffset = (MemoryLayout<ProtobufCBuffer>.stride + 7) & ~7

    /// A buffer appending to `sink`.
    init(_ sink: ByteSink) {
        block = UnsafeMutableRawPointer.allocate(byteCount: Self.contextOffset + MemoryLayout<UnsafeRawPointer>.stride,
                                                 alignment: MemoryLayout<UnsafeRawPointer>.alignment)
        block.initializeMemory(as: ProtobufCBuffer.self, repeating: ProtobufCBuffer(append: { buffer, length, data in
            guard let buffer, let data, length > 0 else { return }
            let context = UnsafeMutableRawPointer(buffer).load(fromByteOffset: ProtobufCByteSink.contextOffset, as: UnsafeRawPointer.self)
            Unmanaged<ByteSink>.fromOpaque(context).takeUnretainedValue().append(UnsafeRawBufferPointer(start: data, count: length))
        }), count: 1)
        block.storeBytes(of: UnsafeRawPointer(Unmanaged.passUnretained(sink).toOpaque()), toByteOffset: Self.contextOffset,
                         as: UnsafeRawPointer.self)
    }

    deinit { block.deallocate() }

    /// The `ProtobufCBuffer *` to pass to a `*__pack_to_buffer` function.
    var buffer: UnsafeMutablePointer<ProtobufCBuffer> { block.assumingMemoryBound(to: ProtobufCBuffer.self) }
}
