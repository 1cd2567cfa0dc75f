import CZlibInflate
import BNConvCore

/// Inflates one raw-deflate stream (a zip member's data, method 8) with zlib, from input the
/// caller holds whole, into output of a size the caller declares: the stream must end exactly at
/// that size and within the input, or the inflation is an error (never a loop, never a read past
/// the input, never more output than declared).
///
/// Owns its `z_stream`; `deinit` ends it. Facts: zlib.h (`inflateInit2` with `-MAX_WBITS` for a
/// raw stream, `Z_STREAM_END`, `Z_BUF_ERROR` when no progress is possible).
package final class ZlibInflater {
    private var stream = z_stream()

    /// Why an inflation failed.
    package enum Failure: Error, Equatable {
        /// The stream is not valid deflate data (zlib's message).
        case corrupt(String)
        /// The input ended before the stream did.
        case truncated
        /// The stream would produce more than the declared size.
        case overrun
        /// The stream ended before producing the declared size.
        case short(Int)
    }

    /// Prepares a raw-deflate inflater; throws `.corrupt` when zlib cannot start.
    package init() throws {
        let status = inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw Failure.corrupt("inflateInit2 returned \(status)") }
    }

    deinit { inflateEnd(&stream) }

    /// Inflates all of `input` into `output`, which must be exactly the stream's inflated size.
    package func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        var inputOffset = 0
        var outputOffset = 0
        while true {
            // zlib's counters are 32-bit: feed at most 1 GiB at a time.
            let inChunk = min(input.count - inputOffset, 1 << 30)
            let outChunk = min(output.count - outputOffset, 1 << 30)
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.advanced(by: inputOffset).assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(inChunk)
            var spare: UInt8 = 0
            let status: Int32 = withUnsafeMutablePointer(to: &spare) { sparePointer in
                if outChunk > 0, let base = output.baseAddress {
                    stream.next_out = base.advanced(by: outputOffset).assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(outChunk)
                } else {
                    // The declared size is reached: one spare byte shows whether the stream
                    // would produce more.
                    stream.next_out = sparePointer
                    stream.avail_out = 1
                }
                return CZlibInflate.inflate(&stream, Z_NO_FLUSH)
            }
            let consumed = inChunk - Int(stream.avail_in)
            inputOffset += consumed
            if outChunk > 0 {
                outputOffset += outChunk - Int(stream.avail_out)
            } else if stream.avail_out == 0 {
                throw Failure.overrun
            }
            switch status {
            case Z_STREAM_END:
                guard outputOffset == output.count else { throw Failure.short(outputOffset) }
                return
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: the input is used up (truncated) or the output is full
                // (handled above by the spare byte on the next turn).
                if inputOffset >= input.count { throw Failure.truncated }
                if outputOffset >= output.count { continue }
                throw Failure.corrupt("no progress possible")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw Failure.corrupt(message)
            }
        }
    }

    /// The CRC-32 (zip's, zlib's `crc32`) of `bytes` (``CRC32/of(_:continuing:)``).
    package static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        CRC32.of(bytes)
    }
}
