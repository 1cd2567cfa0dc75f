import Dispatch
import Foundation
import Synchronization
import BNConvCore

/// A checksum of a range of a file read where it lies, on several cores: the range is split into
/// one span per core, each span's checksum is computed from read-only mappings of ``chunkBytes`` at
/// a time (so at most one chunk per core is mapped at once), and the spans' checksums are joined by
/// the checksum's own combine rule. Used by ``CRC32`` (zip members) and ``CRC32C`` (tensor bundles).
package struct RangeChecksum: Sendable {
    /// How many bytes of a file range are mapped at a time.
    package static let chunkBytes = 4 << 20
    /// Below this many bytes a range is checked on the calling thread alone.
    package static let parallelBytes = 8 << 20

    /// The checksum of `bytes` continuing from the checksum of the bytes before them (0 to start).
    let extend: @Sendable (UInt32, UnsafeRawBufferPointer) -> UInt32
    /// The checksum of two sequences one after the other, from each one's and the second's length.
    let combine: @Sendable (UInt32, UInt32, Int) -> UInt32

    /// The checksum of the `count` bytes at `offset` of `file`, on up to `threads` cores.
    func of(_ file: MappedFile, offset: Int, count: Int, threads: Int) throws -> UInt32 {
        let parts = count < Self.parallelBytes ? 1 : max(1, min(threads, count / Self.chunkBytes, 8))
        guard parts > 1 else { return try of(file, span: offset..<(offset + count)) }
        let step = (count + parts - 1) / parts
        let spans = (0..<parts).map { i in (offset + i * step)..<(offset + min(count, (i + 1) * step)) }
        let results = Mutex<[Result<UInt32, any Error>?]>(Array(repeating: nil, count: parts))
        DispatchQueue.concurrentPerform(iterations: parts) { i in
            let result = Result { try of(file, span: spans[i]) }
            results.withLock { $0[i] = result }
        }
        var sum: UInt32 = 0
        for (span, result) in zip(spans, results.withLock { $0 }) {
            sum = combine(sum, try result!.get(), span.count)
        }
        return sum
    }

    /// The checksum of one span of `file`, a chunk at a time.
    private func of(_ file: MappedFile, span: Range<Int>) throws -> UInt32 {
        var sum: UInt32 = 0
        var at = span.lowerBound
        while at < span.upperBound {
            let chunk = min(span.upperBound - at, Self.chunkBytes)
            sum = try file.withBytes(offset: at, count: chunk) { extend(sum, $0) }
            at += chunk
        }
        return sum
    }
}
