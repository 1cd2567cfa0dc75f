import CProtobufC
import BNConvCore

/// A protobuf-c `ProtobufCBuffer` that appends to a ``ByteSink``, for the generated
/// `*__pack_to_buffer` functions: a message is packed straight into the output, and a bytes field
/// (a tensor's `tensor_content` or `raw_data`) is handed to the sink from where it lies, never
/// copied first.
///
/// Holes: a bytes field whose data pointer is one of `holes` (an address that stands for content
/// still to be computed; protobuf-c hands a bytes field's pointer to the buffer without reading
/// it) is not written but skipped (``ByteSink/skip(_:)``), and the offset where it starts is
/// recorded (``holeOffsets``): the caller writes the content there afterwards.
///
/// The C struct is followed, in the same `malloc`'d block, by an unretained pointer to a Swift
/// object holding the sink, which the `append` callback reads back; the sink must outlive this
/// object.
final class ProtobufCByteSink {
    private let block: UnsafeMutableRawPointer
    private let target: Target
    private static let contextOffset = (MemoryLayout<ProtobufCBuffer>.stride + 7) & ~7

    /// What the callback appends to.
    private final class Target {
        let sink: ByteSink
        /// Hole addresses and their positions in the caller's list.
        let holes: [UInt: Int]
        /// Where each hole starts in the output, once packed.
        var offsets: [Int?]
        /// Told of each hole (its position in the list, its offset) as it is skipped.
        let whenSkipped: ((Int, Int) -> Void)?

        init(sink: ByteSink, holes: [UnsafeRawPointer], whenSkipped: ((Int, Int) -> Void)?) {
            self.sink = sink
            self.holes = Dictionary(holes.enumerated().map { (UInt(bitPattern: $0.element), $0.offset) }, uniquingKeysWith: { a, _ in a })
            offsets = Array(repeating: nil, count: holes.count)
            self.whenSkipped = whenSkipped
        }

        func append(_ data: UnsafeRawPointer, _ length: Int) {
            if let hole = holes[UInt(bitPattern: data)] {
                offsets[hole] = sink.count
                whenSkipped?(hole, sink.count)
                sink.skip(length)
            } else {
                sink.append(UnsafeRawBufferPointer(start: data, count: length))
            }
        }
    }

    /// A buffer appending to `sink`, leaving gaps where a bytes field points at one of `holes`;
    /// `whenSkipped` is told of each (its position in `holes`, its offset) as it is left.
    init(_ sink: ByteSink, holes: [UnsafeRawPointer] = [], whenSkipped: ((Int, Int) -> Void)? = nil) {
        target = Target(sink: sink, holes: holes, whenSkipped: whenSkipped)
        block = UnsafeMutableRawPointer.allocate(byteCount: Self.contextOffset + MemoryLayout<UnsafeRawPointer>.stride,
                                                 alignment: MemoryLayout<UnsafeRawPointer>.alignment)
        block.initializeMemory(as: ProtobufCBuffer.self, repeating: ProtobufCBuffer(append: { buffer, length, data in
            guard let buffer, let data, length > 0 else { return }
            let context = UnsafeMutableRawPointer(buffer).load(fromByteOffset: ProtobufCByteSink.contextOffset, as: UnsafeRawPointer.self)
            Unmanaged<Target>.fromOpaque(context).takeUnretainedValue().append(UnsafeRawPointer(data), length)
        }), count: 1)
        block.storeBytes(of: UnsafeRawPointer(Unmanaged.passUnretained(target).toOpaque()), toByteOffset: Self.contextOffset,
                         as: UnsafeRawPointer.self)
    }

    deinit { block.deallocate() }

    /// The `ProtobufCBuffer *` to pass to a `*__pack_to_buffer` function.
    var buffer: UnsafeMutablePointer<ProtobufCBuffer> { block.assumingMemoryBound(to: ProtobufCBuffer.self) }

    /// Where each hole given at init starts in the sink's output (nil for one never met).
    var holeOffsets: [Int?] { target.offsets }
}
