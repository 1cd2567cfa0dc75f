import BNConvCore

/// A `.keras` zip opened where it lies (``KerasArchiveReader/open(_:limits:)``): every member
/// located and checked against the CRC-32 the archive records, STORED members left in the file
/// (read through ``mapping`` without a copy), deflated ones inflated.
///
/// Keras 3 stores every member uncompressed, so `model.weights.h5` is opened by libhdf5 from the
/// mapping itself and its large datasets can be lent from the file like those of a `.h5`.
package final class KerasArchive: Sendable {
    /// The archive's path, for errors.
    package let path: String
    /// The archive, opened for lending byte ranges (a deferred weight's bytes, CRC checks).
    package let file: MappedFile
    /// The whole archive mapped read-only for as long as the archive lives (pages read when
    /// touched); an in-place member's bytes are a slice of it.
    package let mapping: FileMapping
    /// The members in archive order (folder entries left out).
    package let members: [Member]

    /// One member and where its bytes are.
    package struct Member: Sendable {
        /// The name the central directory gives.
        package var path: String
        /// Its bytes.
        package var content: Content
    }

    /// Where a member's bytes are.
    package enum Content: Sendable {
        /// A STORED member: `count` bytes at `offset` of the archive file.
        case inPlace(offset: Int, count: Int)
        /// A deflated member, inflated into memory.
        case extracted([UInt8])
    }

    /// An archive whose checked members are `members`.
    init(path: String, file: MappedFile, mapping: FileMapping, members: [Member]) {
        self.path = path
        self.file = file
        self.mapping = mapping
        self.members = members
    }

    /// The member named `name`, if any.
    package func member(named name: String) -> Member? {
        members.first { $0.path == name }
    }

    /// A copy of `member`'s bytes (for the small JSON members and assets).
    package func bytes(of member: Member) -> [UInt8] {
        switch member.content {
        case .inPlace(let offset, let count): return [UInt8](UnsafeRawBufferPointer(rebasing: mapping.bytes[offset..<(offset + count)]))
        case .extracted(let bytes): return bytes
        }
    }
}
