import BNConvCore

/// The members of a zip archive as its central directory lists them, each checked against its
/// local header and the file before any byte of it is inflated.
///
/// Facts from PKWARE's APPNOTE.TXT (sections 4.3.6 local header, 4.3.12 central directory
/// header, 4.3.14-4.3.16 zip64 end records, 4.5.3 zip64 extra field). What is checked, each an
/// error naming the member: the end record and every central record lie inside the file; the
/// member count is at most ``maximumMembers``; each local header is where the central record
/// says, with the same name; each member's data lies before the central directory and overlaps no
/// other member's (40 names sharing one 256 MiB member were 40 inflations); only methods 0
/// (stored, whose two sizes must agree) and 8 (deflate); no encryption.
struct ZipCentralDirectory {
    /// The most members an archive may list. A Keras `.keras` holds three (`config.json`,
    /// `metadata.json`, `model.weights.h5`) plus a layer's assets; 200,000 empty members took
    /// minutes to rewrite.
    static let maximumMembers = 10_000

    /// One member, located.
    struct Member {
        /// The name the central directory gives.
        var path: String
        /// 0 (stored) or 8 (deflate).
        var method: Int
        /// The CRC-32 the archive records.
        var crc32: UInt32
        /// Bytes stored in the file.
        var compressedSize: Int
        /// Bytes once inflated.
        var uncompressedSize: Int
        /// Where the stored bytes start in the file.
        var dataOffset: Int
        /// Whether the name ends in `/` (a folder entry, no data).
        var isDirectory: Bool { path.hasSuffix("/") }
    }

    /// The members in central-directory order.
    let members: [Member]

    /// Reads the directory of the `file`-named archive whose bytes are `bytes`.
    init(bytes: UnsafeRawBufferPointer, file: String) throws {
        func fail(_ problem: String, place: String? = nil) -> CheckpointError {
            CheckpointError(.malformed, file: file, place: place ?? "", problem: problem)
        }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
        func int(_ value: UInt64, _ what: String, place: String? = nil) throws -> Int {
            guard value <= UInt64(bytes.count) else { throw fail("\(what) \(value) lies beyond the \(bytes.count)-byte file", place: place) }
            return Int(value)
        }
        let size = bytes.count
        // End of central directory: the last signature 0x06054b50 within the final 22 + 65535 bytes.
        guard size >= 22 else { throw fail("not a zip archive: the file is \(size) bytes, shorter than a zip end record") }
        var eocd = -1
        var at = size - 22
        while at >= max(0, size - 22 - 0xFFFF) {
            if u32(at) == 0x0605_4B50 { eocd = at; break }
            at -= 1
        }
        guard eocd >= 0 else { throw fail("not a zip archive: no end-of-central-directory record") }
        var count = UInt64(u16(eocd + 10))
        var directorySize = UInt64(u32(eocd + 12))
        var directoryOffset = UInt64(u32(eocd + 16))
        // Zip64: a locator 20 bytes before the end record points at the zip64 end record.
        if eocd >= 20, u32(eocd - 20) == 0x0706_4B50 {
            let record = try int(u64(eocd - 20 + 8), "the zip64 end record's offset")
            guard record <= size - 56, u32(record) == 0x0606_4B50 else {
                throw fail("the zip64 end-of-central-directory record is missing or damaged")
            }
            count = u64(record + 32)
            directorySize = u64(record + 40)
            directoryOffset = u64(record + 48)
        }
        guard count <= UInt64(ZipCentralDirectory.maximumMembers) else {
            throw fail("the archive lists \(count) members, more than the \(ZipCentralDirectory.maximumMembers) bnconv reads")
        }
        let start = try int(directoryOffset, "the central directory's offset")
        let length = try int(directorySize, "the central directory's size")
        guard start <= size - length else { throw fail("the central directory (\(length) bytes at \(start)) runs past the end of the file") }
        let directoryEnd = start + length

        var members: [Member] = []
        members.reserveCapacity(Int(count))
        var spans: [(start: Int, end: Int, index: Int)] = []
        var offset = start
        for index in 0..<Int(count) {
            guard offset <= directoryEnd - 46, u32(offset) == 0x0201_4B50 else {
                throw fail("central directory record \(index) at byte \(offset) is missing or damaged")
            }
            let flags = u16(offset + 8)
            let method = u16(offset + 10)
            let crc = UInt32(u32(offset + 16))
            var compressed = UInt64(u32(offset + 20))
            var uncompressed = UInt64(u32(offset + 24))
            let nameLength = u16(offset + 28)
            let extraLength = u16(offset + 30)
            let commentLength = u16(offset + 32)
            var localOffset = UInt64(u32(offset + 42))
            let recordEnd = offset + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= directoryEnd else { throw fail("central directory record \(index) runs past the directory's end") }
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[(offset + 46)..<(offset + 46 + nameLength)])
            let path = String(decoding: nameBytes, as: UTF8.self)
            // Zip64 extra field (id 1): the 8-byte values of the fields that hold 0xFFFFFFFF, in order.
            var extra = offset + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra)
                let dataSize = u16(extra + 2)
                guard extra + 4 + dataSize <= extraEnd else { break }
                if id == 1 {
                    var field = extra + 4
                    if uncompressed == 0xFFFF_FFFF, field + 8 <= extra + 4 + dataSize { uncompressed = u64(field); field += 8 }
                    if compressed == 0xFFFF_FFFF, field + 8 <= extra + 4 + dataSize { compressed = u64(field); field += 8 }
                    if localOffset == 0xFFFF_FFFF, field + 8 <= extra + 4 + dataSize { localOffset = u64(field); field += 8 }
                }
                extra += 4 + dataSize
            }
            guard flags & 1 == 0 else { throw fail("the member is encrypted", place: path) }
            guard method == 0 || method == 8 else {
                throw fail("the member uses compression method \(method); only stored (0) and deflate (8) are read", place: path)
            }
            let local = try int(localOffset, "the local header offset", place: path)
            guard local <= size - 30, u32(local) == 0x0403_4B50 else {
                throw fail("no local header at byte \(local), where the central directory places the member", place: path)
            }
            let localNameLength = u16(local + 26)
            let localExtraLength = u16(local + 28)
            let dataOffset = local + 30 + localNameLength + localExtraLength
            guard dataOffset <= size,
                  UnsafeRawBufferPointer(rebasing: bytes[(local + 30)..<min(local + 30 + localNameLength, size)]).elementsEqual(nameBytes) else {
                throw fail("the local header at byte \(local) names a different member than the central directory", place: path)
            }
            let stored = try int(compressed, "the stored size", place: path)
            guard dataOffset <= start, stored <= start - dataOffset else {
                throw fail("the member's \(stored) stored bytes at byte \(dataOffset) run into the central directory or past the file's end", place: path)
            }
            guard uncompressed <= UInt64(Int.max) else { throw fail("the member declares \(uncompressed) bytes", place: path) }
            if method == 0 && compressed != uncompressed {
                throw fail("the stored member's sizes disagree (\(compressed) stored, \(uncompressed) declared)", place: path)
            }
            members.append(Member(path: path, method: method, crc32: crc, compressedSize: stored,
                                  uncompressedSize: Int(uncompressed), dataOffset: dataOffset))
            spans.append((local, dataOffset + stored, index))
            offset = recordEnd
        }
        spans.sort { $0.start < $1.start }
        for (previous, next) in zip(spans, spans.dropFirst()) where next.start < previous.end {
            throw fail("the member overlaps '\(members[previous.index].path)' in the file (two directory entries share bytes)",
                       place: members[next.index].path)
        }
        self.members = members
    }
}
