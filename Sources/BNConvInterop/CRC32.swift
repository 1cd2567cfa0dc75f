import CZlibInflate
import Foundation
import BNConvCore

/// The CRC-32 a zip archive records for each member (ISO-HDLC, zlib's `crc32`), of bytes in
/// memory or of a range of a file read where it lies, on every core.
///
/// A range is split into one span per core; each span's CRC is computed from read-only mappings
/// of ``RangeChecksum/chunkBytes`` at a time (so at most one chunk per core is mapped at once) and the spans'
/// CRCs are joined with zlib's `crc32_combine` (zlib.h: the CRC of two sequences from their CRCs
/// and the second one's length). 103 MB take 25-29 ms on one core of the team's machine with
/// zlib's routine, 7.5 ms folded by carry-less multiplication.
package enum CRC32 {
    /// Whether this CPU computes the CRC by carry-less multiplication (`crc32_fold.h`: x86-64
    /// with PCLMULQDQ, three to four times zlib's speed); zlib's `crc32` otherwise.
    package static let folds = czlib_crc32_can_fold() != 0

    /// The CRC-32 of `bytes`, continuing from `crc` (the CRC of the bytes before them; 0 to start).
    /// `folding` false keeps to zlib's own routine (the tests compare the two).
    package static func of(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0, folding: Bool = CRC32.folds) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return czlib_crc32(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count, folding ? 1 : 0)
    }

    /// The CRC-32 of two sequences one after the other, from the CRC of each and the length of the second.
    package static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        guard secondLength > 0 else { return first }
        return UInt32(truncatingIfNeeded: crc32_combine(uLong(first), uLong(second), secondLength))
    }

    /// The CRC-32 of the `count` bytes at `offset` of `file`, read through read-only mappings
    /// (``RangeChecksum/chunkBytes`` at a time per core) and computed on up to `threads` cores.
    package static func of(_ file: MappedFile, offset: Int, count: Int,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> UInt32 {
        try RangeChecksum(extend: { of($1, continuing: $0) }, combine: { combine($0, $1, secondLength: $2) })
            .of(file, offset: offset, count: count, threads: threads)
    }
}
