import Foundation
import BNConvCore

/// CRC-32C (Castagnoli: reflected, polynomial 0x1EDC6F41, reflected 0x82F63B78, initial value and
/// final XOR 0xFFFFFFFF), the checksum of LevelDB tables and TensorFlow tensor bundles, in Swift.
///
/// Computed by slicing-by-8 (eight 256-entry tables: eight bytes are folded into the running value
/// per step, each byte looked up in its own table; Kounavis and Berry, "A Systematic Approach to
/// Building High Performance Software-Based CRC Generators", 2005). A range of a file of
/// ``parallelBytes`` or more is split into one span per core and the spans' CRCs joined with
/// ``combine(_:_:secondLength:)``. `tools/bench` measures it (docs/formats.md, Tensor bundles).
///
/// ``masked(_:)`` is TensorFlow's and LevelDB's masking (`tensorflow/core/lib/hash/crc32c.h`,
/// `leveldb/util/crc32c.h`): a CRC stored beside the data it covers is rotated right by 15 bits and
/// offset by 0xa282ead8, because computing the CRC of a string that contains embedded CRCs is
/// problematic.
package enum CRC32C {
    /// The reflected polynomial.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// The eight slicing tables, 256 entries each, table `k` at `k * 256`: table 0 is the
    /// byte-at-a-time table, table `k` advances a byte's contribution by `k` more zero bytes.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ polynomial : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// The CRC-32C of `bytes`.
    package static func value(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        extend(0, bytes)
    }

    /// The CRC-32C of `bytes`.
    package static func value(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { extend(0, $0) }
    }

    /// The CRC-32C of the bytes whose CRC is `crc` followed by `bytes` (`crc32c::Extend`).
    package static func extend(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { extend(crc, $0) }
    }

    /// The CRC-32C of the bytes whose CRC is `crc` followed by `bytes` (`crc32c::Extend`).
    package static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return tables.withUnsafeBufferPointer { t in
            var c = ~crc
            var p = base
            var n = bytes.count
            // Bytes one at a time up to an 8-byte boundary (the loads below need none, but aligned
            // loads are faster where the data is aligned).
            while n > 0 && Int(bitPattern: p) & 7 != 0 {
                c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                p += 1
                n -= 1
            }
            while n >= 8 {
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) ^ UInt64(c)
                let lo = UInt32(truncatingIfNeeded: word), hi = UInt32(truncatingIfNeeded: word >> 32)
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                p += 8
                n -= 8
            }
            while n > 0 {
                c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                p += 1
                n -= 1
            }
            return ~c
        }
    }

    /// The mask TensorFlow and LevelDB apply to a stored CRC: rotated right 15 bits, plus 0xa282ead8.
    package static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// The CRC a masked value was made from (the inverse of ``masked(_:)``).
    package static func unmasked(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- 0xA282_EAD8
        return (rotated >> 17) | (rotated << 15)
    }

    /// The CRC-32C of two byte sequences one after the other, from the CRC of each and the length
    /// of the second: the first CRC carried over `secondLength` zero bytes (a multiplication by
    /// x^(8 * secondLength) modulo the polynomial; the method of zlib's `crc32_combine`) and added
    /// to the second.
    package static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        guard secondLength > 0 else { return first }
        return multiply(powerOfX(bits: secondLength), first) ^ second
    }

    /// `a * b` modulo the polynomial, in the reflected bit order (bit 31 is x^0).
    static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var m: UInt32 = 1 << 31
        var product: UInt32 = 0
        var b = b
        while m != 0 {
            if a & m != 0 { product ^= b }
            m >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ polynomial : b >> 1
        }
        return product
    }

    /// x^(2^k) modulo the polynomial for k = 0..<64 (reflected).
    static let powersOfTwo: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 64)
        var p: UInt32 = 1 << 30   // x^1
        for k in 0..<64 {
            table[k] = p
            p = multiply(p, p)
        }
        return table
    }()

    /// x^(8 * bytes) modulo the polynomial.
    static func powerOfX(bits bytes: Int) -> UInt32 {
        var n = UInt64(bytes)
        var k = 3   // 8 bits per byte: start at x^(2^3)
        var p: UInt32 = 1 << 31   // x^0
        while n != 0 {
            if n & 1 != 0 { p = multiply(powersOfTwo[k & 63], p) }
            n >>= 1
            k += 1
        }
        return p
    }

    /// The CRC-32C of the `count` bytes at `offset` of `file`, read through read-only mappings
    /// (``RangeChecksum/chunkBytes`` at a time per core) and computed on up to `threads` cores.
    package static func of(_ file: MappedFile, offset: Int, count: Int,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> UInt32 {
        try RangeChecksum(extend: { extend($0, $1) }, combine: { combine($0, $1, secondLength: $2) })
            .of(file, offset: offset, count: count, threads: threads)
    }
}
