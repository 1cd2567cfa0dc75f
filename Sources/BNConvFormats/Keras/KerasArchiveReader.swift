import Foundation
import ZIPFoundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads the members of a `.keras` zip into memory, in archive order (docs/formats.md, The .keras archive).
enum KerasArchiveReader {
    /// The largest member bnconv extracts, and the largest expansion ratio of a compressed one.
    static let memberCap: Int64 = 8 << 30
    static let maxRatio: Int64 = 1000

    /// Every member's path and bytes, in order.
    static func members(of path: String) throws -> [KerasArchiveMember] {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw CheckpointError(.malformed, file: path, problem: "not a readable zip archive (\(error))")
        }
        var out: [KerasArchiveMember] = []
        var seen = Set<String>()
        for entry in archive where entry.type == .file {
            // Python's zipfile (so Keras) reads the last of two members with one name; bnconv read
            // the first. Such an archive is ambiguous: refused.
            guard seen.insert(entry.path).inserted else {
                throw CheckpointError(.malformed, file: path, place: entry.path,
                                      problem: "the archive holds two members of this name (Keras reads the last, other tools the first); refused as ambiguous")
            }
            let size = Int64(entry.uncompressedSize)
            if size > memberCap || (entry.isCompressed && size > max(Int64(entry.compressedSize), 1) * maxRatio) {
                throw CheckpointError(.malformed, file: path, place: entry.path,
                                      problem: "the zip member declares \(size) bytes, too many for its \(entry.compressedSize) stored bytes")
            }
            var data = Data()
            data.reserveCapacity(Int(size))
            let checksum: CRC32
            do {
                checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                    // The declared size is what was checked above: a member that inflates to more
                    // is stopped there, not followed into memory.
                    guard Int64(data.count) + Int64(chunk.count) <= size else { throw MemberOverrun() }
                    data.append(chunk)
                }
            } catch is MemberOverrun {
                throw CheckpointError(.malformed, file: path, place: entry.path,
                                      problem: "the zip member inflates to more than the \(size) bytes it declares")
            } catch {
                throw CheckpointError(.malformed, file: path, place: entry.path, problem: "cannot extract the zip member (\(error))")
            }
            // ZIPFoundation computes the CRC-32 of what it extracted; comparing it with the one the
            // archive records is the caller's part (Keras's zipfile refuses a mismatch too).
            guard checksum == entry.checksum else {
                throw CheckpointError(.malformed, file: path, place: entry.path,
                                      problem: "the zip member's CRC-32 is \(String(checksum, radix: 16)), the archive records \(String(entry.checksum, radix: 16)): the member is damaged")
            }
            out.append(KerasArchiveMember(path: entry.path, data: [UInt8](data)))
        }
        return out
    }

    /// Thrown inside an extraction whose output passes the member's declared size.
    private struct MemberOverrun: Error {}
}
