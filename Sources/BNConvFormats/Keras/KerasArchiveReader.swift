import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads the members of a `.keras` zip, in archive order (docs/formats.md, The .keras archive),
/// after ``ZipCentralDirectory`` has checked every member's place and sizes: into memory
/// (``members(of:limits:)``), or with STORED members left in the file (``open(_:limits:)``).
///
/// Caps, each checked before anything is inflated: a member declares at most ``memberCap``
/// bytes and, compressed, at most `limits.maxExpansion` bytes per stored byte; all members
/// together at most `limits.totalAllowance(fileBytes:)`. Inflation (``ZlibInflater``) is bounded
/// by the declared size and by the stored bytes: a stream that would produce more, or that runs
/// past its stored bytes, is an error, not a loop. Every member's CRC-32 is checked, as Python's
/// `zipfile` (so Keras) checks it.
package enum KerasArchiveReader {
    /// The largest member bnconv extracts (or the one-tensor cap, when that is larger).
    static let memberCap = 8 << 30

    /// Every member's path and bytes, in order (folder entries left out).
    static func members(of path: String, limits: ReadLimits = ReadLimits()) throws -> [KerasArchiveMember] {
        guard let file = MappedFile(path: path) else {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot open the file")
        }
        return try file.withBytes(offset: 0, count: file.size) { try members(in: $0, file: path, limits: limits) }
    }

    /// Every member's path and bytes of the archive whose bytes are `bytes`; `file` names it in
    /// errors (the fuzz driver's entry point too).
    package static func members(in bytes: UnsafeRawBufferPointer, file path: String, limits: ReadLimits = ReadLimits()) throws -> [KerasArchiveMember] {
        try checkedMembers(in: bytes, file: path, limits: limits).map { member in
            KerasArchiveMember(path: member.path, data: try extract(member, from: bytes, file: path))
        }
    }

    /// The archive at `path` with its STORED members left where they lie: each checked against its
    /// CRC-32 from the file (on every core, a few MiB mapped at a time, so checking 100 MB holds
    /// no more than that in memory), deflated members inflated and checked as
    /// ``members(of:limits:)`` does. Nothing of a member is handed on before its CRC-32 matched:
    /// libhdf5 never sees damaged bytes that the archive's own check can catch.
    package static func open(_ path: String, limits: ReadLimits = ReadLimits()) throws -> KerasArchive {
        guard let file = MappedFile(path: path) else {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot open the file")
        }
        let mapping = try file.mapping(offset: 0, count: file.size)
        let bytes = mapping.bytes
        let members = try checkedMembers(in: bytes, file: path, limits: limits).map { member -> KerasArchive.Member in
            guard member.method == 0 else {
                return KerasArchive.Member(path: member.path, content: .extracted(try extract(member, from: bytes, file: path)))
            }
            try check(crc: CRC32.of(file, offset: member.dataOffset, count: member.compressedSize), of: member, file: path)
            return KerasArchive.Member(path: member.path, content: .inPlace(offset: member.dataOffset, count: member.compressedSize))
        }
        return KerasArchive(path: path, file: file, mapping: mapping, members: members)
    }

    /// The members the central directory lists (folder entries left out), after the checks of
    /// names and declared sizes every read makes before inflating anything.
    private static func checkedMembers(in bytes: UnsafeRawBufferPointer, file path: String, limits: ReadLimits) throws -> [ZipCentralDirectory.Member] {
        let files = try ZipCentralDirectory(bytes: bytes, file: path).members.filter { !$0.isDirectory }
        var seen = Set<String>()
        var declared = DeclaredBytes()
        for member in files {
            // Python's zipfile (so Keras) reads the last of two members with one name; other
            // tools the first. Such an archive is ambiguous: refused.
            guard seen.insert(member.path).inserted else {
                throw CheckpointError(.malformed, file: path, place: member.path,
                                      problem: "the archive holds two members of this name (Keras reads the last, other tools the first); refused as ambiguous")
            }
            let ratioCap = max(member.compressedSize, 1).multipliedReportingOverflow(by: limits.maxExpansion)
            if member.uncompressedSize > max(memberCap, limits.maxTensorBytes)
                || (member.method == 8 && !ratioCap.overflow && member.uncompressedSize > ratioCap.partialValue) {
                throw CheckpointError(.malformed, file: path, place: member.path,
                                      problem: "the zip member declares \(member.uncompressedSize) bytes, too many for its \(member.compressedSize) stored bytes (cap: \(limits.maxExpansion)x, at most \(memberCap) bytes; BNCONV_MAX_EXPANSION, --allow-large)")
            }
            declared.add(count: member.uncompressedSize, elementBytes: 1)
        }
        if let refusal = limits.totalRefusal("the zip members", declared: declared.total, fileBytes: bytes.count) {
            throw CheckpointError(.malformed, file: path, problem: refusal)
        }
        return files
    }

    /// Throws when `crc` is not the CRC-32 the archive records for `member`.
    private static func check(crc checksum: UInt32, of member: ZipCentralDirectory.Member, file: String) throws {
        guard checksum == member.crc32 else {
            throw CheckpointError(.malformed, file: file, place: member.path,
                                  problem: "the zip member's CRC-32 is \(String(checksum, radix: 16)), the archive records \(String(member.crc32, radix: 16)): the member is damaged")
        }
    }

    /// The inflated, CRC-checked bytes of `member`.
    private static func extract(_ member: ZipCentralDirectory.Member, from bytes: UnsafeRawBufferPointer, file: String) throws -> [UInt8] {
        let stored = UnsafeRawBufferPointer(rebasing: bytes[member.dataOffset..<(member.dataOffset + member.compressedSize)])
        let data: [UInt8]
        if member.method == 0 {
            data = [UInt8](stored)
        } else {
            let inflater = try ZlibInflater()
            var failure: ZlibInflater.Failure?
            data = [UInt8](unsafeUninitializedCapacity: member.uncompressedSize) { buffer, count in
                do {
                    try inflater.inflate(stored, into: UnsafeMutableRawBufferPointer(buffer))
                    count = member.uncompressedSize
                } catch {
                    failure = error as? ZlibInflater.Failure ?? .corrupt("\(error)")
                    count = 0
                }
            }
            if let failure {
                let problem: String
                switch failure {
                case .truncated: problem = "the member's deflate stream runs past its \(member.compressedSize) stored bytes (truncated)"
                case .overrun: problem = "the zip member inflates to more than the \(member.uncompressedSize) bytes it declares"
                case .short(let n): problem = "the zip member inflates to \(n) bytes, not the \(member.uncompressedSize) it declares"
                case .corrupt(let reason): problem = "the member's deflate data is damaged (\(reason))"
                }
                throw CheckpointError(.malformed, file: file, place: member.path, problem: problem)
            }
        }
        try check(crc: data.withUnsafeBytes { CRC32.of($0) }, of: member, file: file)
        return data
    }
}
