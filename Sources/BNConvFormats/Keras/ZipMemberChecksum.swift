import Synchronization
import BNConvCore
import BNConvInterop

/// The CRC-32 of a zip member that others wrote into the archive in place, piece by piece, taken
/// without reading back what is no longer in memory.
///
/// Bytes computed for the member and written beside the library that lays it out (folded
/// kernels, sent to the disk with direct I/O, so not in the page cache afterwards) are checked as
/// they are made: ``record(_:at:)`` keeps each range's CRC. The rest of the member (what libhdf5
/// wrote itself: its metadata and the datasets it was handed, in the page cache) is read back
/// from the archive once the member is complete, and ``value(of:range:)`` joins every piece's CRC
/// in file order (`crc32_combine`). Thread-safe: ranges are recorded under a lock.
final class ZipMemberChecksum: Sendable {
    /// One range written beside the library: where, how long, its CRC-32.
    private struct Piece {
        var offset: Int
        var count: Int
        var crc: UInt32
    }

    /// The recorded ranges, in the order they were made.
    private let pieces = Mutex<[Piece]>([])

    /// An empty record.
    init() {}

    /// Records that `bytes` are written at archive offset `offset` (called by the computing thread,
    /// before they are written; each range written once and never overwritten afterwards).
    func record(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        let piece = Piece(offset: offset, count: bytes.count, crc: CRC32.of(bytes))
        pieces.withLock { $0.append(piece) }
    }

    /// The CRC-32 of the archive's bytes in `range`, once they are all written: the recorded
    /// pieces inside it as recorded, the bytes between them read from `file` (a mapping of the
    /// archive opened after the member was complete). Recorded pieces that overlap or stray outside
    /// `range` (which the writers never make) are ignored and their bytes read back instead.
    func value(of file: MappedFile, range: Range<Int>) throws -> UInt32 {
        let inside = pieces.withLock { $0 }
            .filter { $0.count > 0 && $0.offset >= range.lowerBound && $0.offset <= range.upperBound - $0.count }
            .sorted { $0.offset < $1.offset }
        // A piece is kept when it overlaps no other: no earlier one reaches into it (the largest
        // end so far), and the next one (so no later one) starts after it ends.
        var known: [Piece] = []
        var reach = Int.min
        for (i, piece) in inside.enumerated() {
            let end = piece.offset + piece.count
            if reach <= piece.offset && (i == inside.count - 1 || end <= inside[i + 1].offset) { known.append(piece) }
            reach = max(reach, end)
        }
        var crc: UInt32 = 0
        var at = range.lowerBound
        for piece in known {
            if piece.offset > at {
                crc = CRC32.combine(crc, try CRC32.of(file, offset: at, count: piece.offset - at), secondLength: piece.offset - at)
            }
            crc = CRC32.combine(crc, piece.crc, secondLength: piece.count)
            at = piece.offset + piece.count
        }
        if at < range.upperBound {
            crc = CRC32.combine(crc, try CRC32.of(file, offset: at, count: range.upperBound - at), secondLength: range.upperBound - at)
        }
        return crc
    }
}
