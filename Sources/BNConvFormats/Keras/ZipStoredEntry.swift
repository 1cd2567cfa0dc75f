import Foundation

/// One STORED (uncompressed) member of a zip archive bnconv writes, and the records that describe
/// it: its local header, its central directory record, and the archive's end records.
///
/// The bytes are those ZIPFoundation 0.9 writes for `Archive.addEntry(..., compressionMethod:
/// .none)` of a regular file (bnconv wrote `.keras` archives with it before it streamed them), so
/// an archive is the same byte for byte: version needed 2.0 (4.5 with zip64), flag 0x0800 (UTF-8
/// names), no data descriptor, the CRC-32 and sizes in the local header; version made by 0x315
/// (Unix, 2.1), external attributes of a 0644 regular file; a zip64 extra field (id 1) in the
/// local header with both sizes when the member is 0xFFFFFFFF bytes or more, in the central
/// record with those sizes and the local header's offset where it is 0xFFFFFFFF or more; a zip64
/// end record and locator when the entry count, the directory's size or offset overflow their
/// fields (PKWARE's APPNOTE.TXT, 4.3.7, 4.3.12, 4.3.14-4.3.16, 4.5.3).
struct ZipStoredEntry {
    /// The member's name (UTF-8).
    var name: [UInt8]
    /// The CRC-32 of its bytes.
    var crc32: UInt32
    /// Its size in bytes.
    var size: UInt64
    /// The MS-DOS date and time of its modification (``dosDateTime(_:)``).
    var dosDate: UInt16
    /// See ``dosDate``.
    var dosTime: UInt16
    /// Where its local header starts in the archive.
    var headerOffset: UInt64
    /// From which size or offset a value goes to a zip64 field: ``maximum32``, lowered only by
    /// tests that compare the zip64 records with ZIPFoundation's (whose threshold they lower too).
    var zip64From = ZipStoredEntry.maximum32

    /// The largest value a 32-bit field holds; a value this large or larger goes to a zip64 field.
    static let maximum32 = UInt64(UInt32.max)
    /// The largest entry count the end record's 16-bit fields hold.
    static let maximum16 = UInt64(UInt16.max)

    /// Whether the local header carries the sizes in a zip64 extra field.
    var hasZip64Sizes: Bool { size >= zip64From }

    /// The local header's length for a member named `name` of `size` bytes.
    static func localHeaderLength(nameLength: Int, size: UInt64) -> Int {
        30 + nameLength + (size >= maximum32 ? 20 : 0)
    }

    /// The fields the local header and the central record share, in their order: version needed,
    /// flags (UTF-8 names), method (STORED), time, date, CRC-32, both sizes and the name's length.
    private func appendSharedFields(to out: inout ZipBytes) {
        out.u16(hasZip64Sizes ? 45 : 20)
        out.u16(0x0800)
        out.u16(0)
        out.u16(dosTime)
        out.u16(dosDate)
        out.u32(crc32)
        out.u32(hasZip64Sizes ? UInt32.max : UInt32(size))
        out.u32(hasZip64Sizes ? UInt32.max : UInt32(size))
        out.u16(UInt16(name.count))
    }

    /// The local header (the data follows it).
    var localHeader: [UInt8] {
        var out = ZipBytes()
        out.u32(0x0403_4B50)
        appendSharedFields(to: &out)
        out.u16(hasZip64Sizes ? 20 : 0)
        out.bytes += name
        if hasZip64Sizes {
            out.u16(1)
            out.u16(16)
            out.u64(size)
            out.u64(size)
        }
        return out.bytes
    }

    /// The central directory record.
    var centralRecord: [UInt8] {
        let offsetInExtra = headerOffset >= zip64From
        let extraData = (hasZip64Sizes ? 16 : 0) + (offsetInExtra ? 8 : 0)
        var out = ZipBytes()
        out.u32(0x0201_4B50)
        out.u16(0x315)
        appendSharedFields(to: &out)
        out.u16(UInt16(extraData > 0 ? extraData + 4 : 0))
        out.u16(0)                          // comment length
        out.u16(0)                          // disk number start
        out.u16(0)                          // internal attributes
        out.u32(0o100644 << 16)             // external attributes: a regular file, rw-r--r--
        out.u32(offsetInExtra ? UInt32.max : UInt32(headerOffset))
        out.bytes += name
        if extraData > 0 {
            out.u16(1)
            out.u16(UInt16(extraData))
            if hasZip64Sizes {
                out.u64(size)
                out.u64(size)
            }
            if offsetInExtra { out.u64(headerOffset) }
        }
        return out.bytes
    }

    /// The records that end an archive of `count` entries whose central directory of `size` bytes
    /// starts at `offset` (and so ends where these records start): a zip64 end record and locator
    /// when a value overflows its field, then the end record. The thresholds are lowered only by
    /// tests (see ``zip64From``).
    static func directoryEnd(count: Int, size: UInt64, offset: UInt64, zip64From: UInt64 = maximum32,
                             zip64EntriesFrom: UInt64 = maximum16) -> [UInt8] {
        let entries = UInt64(count)
        let maximum16 = zip64EntriesFrom, maximum32 = zip64From
        var out = ZipBytes()
        if entries >= maximum16 || size >= maximum32 || offset >= maximum32 {
            let recordOffset = offset + size
            out.u32(0x0606_4B50)
            out.u64(44)
            out.u16(0x315)
            out.u16(45)
            out.u32(0)
            out.u32(0)
            out.u64(entries)
            out.u64(entries)
            out.u64(size)
            out.u64(offset)
            out.u32(0x0706_4B50)
            out.u32(0)
            out.u64(recordOffset)
            out.u32(1)
        }
        out.u32(0x0605_4B50)
        out.u16(0)
        out.u16(0)
        out.u16(entries >= maximum16 ? UInt16.max : UInt16(entries))
        out.u16(entries >= maximum16 ? UInt16.max : UInt16(entries))
        out.u32(size >= maximum32 ? UInt32.max : UInt32(size))
        out.u32(offset >= maximum32 ? UInt32.max : UInt32(offset))
        out.u16(0)
        return out.bytes
    }

    /// `date` as MS-DOS date and time fields, in UTC, years clamped to 1980...2099, seconds
    /// halved (as ZIPFoundation converts a modification date).
    static func dosDateTime(_ date: Date) -> (date: UInt16, time: UInt16) {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return (0, 0) }
        let year = min(max(Int(parts.tm_year) + 1900, 1980), 2099)
        let day = Int(parts.tm_mday) + (Int(parts.tm_mon) + 1) * 32 + (year - 1980) * 512
        let clock = Int(parts.tm_sec) / 2 + Int(parts.tm_min) * 32 + Int(parts.tm_hour) * 2048
        return (UInt16(truncatingIfNeeded: day), UInt16(truncatingIfNeeded: clock))
    }

    /// Little-endian fields appended one after another.
    private struct ZipBytes {
        var bytes: [UInt8] = []
        mutating func u16(_ value: UInt16) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8)] }
        mutating func u32(_ value: UInt32) { u16(UInt16(value & 0xFFFF)); u16(UInt16(value >> 16)) }
        mutating func u64(_ value: UInt64) { u32(UInt32(value & 0xFFFF_FFFF)); u32(UInt32(value >> 32)) }
    }
}
