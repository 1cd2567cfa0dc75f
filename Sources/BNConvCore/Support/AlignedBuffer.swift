import Foundation

/// A reusable block of memory aligned for direct I/O, handing out regions placed so that the
/// region's bytes sit at the same position within an ``alignment`` block as the file bytes they
/// will be written to: the whole blocks of the range can then go to the disk from the region
/// itself (``DirectRangeWriter``).
///
/// Grows to the largest region asked for and keeps that memory for the next one (no fresh pages
/// per region). Used by one thread at a time.
final class AlignedBuffer {
    /// Memory and file-offset alignment of direct I/O: 4096 bytes covers both 512- and
    /// 4096-byte logical blocks.
    static let alignment = 4096

    /// The block (nil until the first region).
    private var base: UnsafeMutableRawPointer?
    /// Its size in bytes.
    private(set) var capacity = 0

    /// An empty buffer.
    init() {}

    deinit { free(base) }

    /// Room for `count` bytes that will be written at file offset `offset`: its first byte has the
    /// same remainder modulo ``alignment`` as `offset`. Valid until the next call.
    func region(count: Int, forFileOffset offset: Int) -> UnsafeMutableRawBufferPointer {
        precondition(count >= 0 && offset >= 0)
        let shift = offset % Self.alignment
        let needed = (shift + count + Self.alignment - 1) / Self.alignment * Self.alignment
        if needed > capacity {
            free(base)
            base = nil
            capacity = 0
            var block: UnsafeMutableRawPointer?
            guard posix_memalign(&block, Self.alignment, max(needed, Self.alignment)) == 0, let block else {
                fatalError("out of memory for a \(needed)-byte write buffer")
            }
            FreshMemory.prepare(block, count: needed)
            base = block
            capacity = needed
        }
        return UnsafeMutableRawBufferPointer(start: base! + shift, count: count)
    }
}
