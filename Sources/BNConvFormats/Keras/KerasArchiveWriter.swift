import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a `.keras` zip as Keras does: members in the original order (metadata.json, config.json,
/// model.weights.h5, then any assets), all STORED, JSON members and assets dated 1980-01-01,
/// model.weights.h5 dated now (docs/formats.md, The .keras archive). The records are those
/// ZIPFoundation writes (``ZipStoredEntry``), so the archive is the one bnconv wrote with it before.
///
/// Streamed: nothing of the archive is held in memory but the small members. libhdf5 makes
/// `model.weights.h5` in place, inside the archive (``HDF5File/create(_:atOffset:name:unbufferedRawData:)``),
/// and the datasets computed beside it (folded kernels, copies of untouched ones) go straight to
/// their place in the archive too; their CRC-32 is taken as they are made, the rest of the member
/// is read back once it is complete (``ZipMemberChecksum``), and the member's local header, which
/// carries the CRC-32 and the size, is written last, into the room left for it.
enum KerasArchiveWriter {
    /// Writes the archive into the new file `path`: `members` (with `config` for `config.json`),
    /// and `model.weights.h5` made by `weights`, which writes into the HDF5 file it is given and
    /// passes `whenComputed` on to whatever writes raw bytes into the archive beside libhdf5.
    /// `weightsBytes` is the sum of the weights' sizes, a lower bound of the member's size (which
    /// decides whether its local header needs zip64 fields before it is written). A failure to
    /// write is a `CheckpointError` naming `target`, the file the user asked for; errors of
    /// `weights` are passed on.
    static func write(members: [KerasArchiveMember], config: [UInt8], weightsBytes: Int, to path: String, target: String,
                      weights: (_ file: HDF5File, _ whenComputed: @escaping @Sendable (UnsafeRawBufferPointer, Int) -> Void) throws -> Void) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw failure(target, errno) }
        defer { close(fd) }
        var order = members
        for required in ["config.json", "model.weights.h5"] where !order.contains(where: { $0.path == required }) {
            order.append(KerasArchiveMember(path: required, data: []))
        }
        let dosEpoch = DateComponents(calendar: Calendar(identifier: .gregorian), year: 1980, month: 1, day: 1).date ?? Date()
        let epoch = ZipStoredEntry.dosDateTime(dosEpoch)
        var entries: [ZipStoredEntry] = []
        var offset = 0
        for member in order {
            let entry: ZipStoredEntry
            if member.path == "model.weights.h5" {
                entry = try writeWeights(at: offset, fd: fd, path: path, target: target, weightsBytes: weightsBytes, weights)
            } else {
                let data = member.path == "config.json" ? config : member.data
                entry = ZipStoredEntry(name: Array(member.path.utf8), crc32: data.withUnsafeBytes { CRC32.of($0) }, size: UInt64(data.count),
                                       dosDate: epoch.date, dosTime: epoch.time, headerOffset: UInt64(offset))
                let header = entry.localHeader
                try write(header, fd: fd, at: offset, target: target)
                try write(data, fd: fd, at: offset + header.count, target: target)
            }
            entries.append(entry)
            offset = Int(entry.headerOffset) + entry.localHeader.count + Int(entry.size)
        }
        let directory = entries.flatMap(\.centralRecord)
        let end = ZipStoredEntry.directoryEnd(count: entries.count, size: UInt64(directory.count), offset: UInt64(offset))
        try write(directory + end, fd: fd, at: offset, target: target)
        guard ftruncate(fd, off_t(offset + directory.count + end.count)) == 0 else { throw failure(target, errno) }
    }

    /// Writes `model.weights.h5` with its local header at `offset`: libhdf5 makes the file after
    /// the room left for the header, then the header is written with the CRC-32 and size. When the
    /// member turns out to need zip64 sizes after all (or not), where `weightsBytes` led to the
    /// other guess, it is written again after the larger (or smaller) header.
    private static func writeWeights(at offset: Int, fd: Int32, path: String, target: String, weightsBytes: Int,
                                     _ weights: (HDF5File, @escaping @Sendable (UnsafeRawBufferPointer, Int) -> Void) throws -> Void) throws -> ZipStoredEntry {
        let name = Array("model.weights.h5".utf8)
        var zip64 = UInt64(weightsBytes) >= ZipStoredEntry.maximum32
        for attempt in 0..<2 {
            let start = offset + ZipStoredEntry.localHeaderLength(nameLength: name.count, size: zip64 ? ZipStoredEntry.maximum32 : 0)
            // The header's room holds zeros until the header is known; nothing lies after it yet.
            guard ftruncate(fd, off_t(start)) == 0 else { throw failure(target, errno) }
            let checksum = ZipMemberChecksum()
            let file = try HDF5File.create(path, atOffset: start, name: target + "/model.weights.h5", unbufferedRawData: true)
            try weights(file) { bytes, at in checksum.record(bytes, at: at) }
            try file.close()
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw failure(target, errno) }
            let size = Int(info.st_size) - start
            // The member's size does not depend on the header's, so the second guess is right.
            if attempt == 0 && (UInt64(size) >= ZipStoredEntry.maximum32) != zip64 {
                zip64.toggle()
                continue
            }
            guard let archive = MappedFile(path: path) else { throw failure(target, errno) }
            let (date, time) = ZipStoredEntry.dosDateTime(Date())
            let entry = ZipStoredEntry(name: name, crc32: try checksum.value(of: archive, range: start..<(start + size)), size: UInt64(size),
                                       dosDate: date, dosTime: time, headerOffset: UInt64(offset))
            try write(entry.localHeader, fd: fd, at: offset, target: target)
            return entry
        }
        preconditionFailure("unreachable: the second attempt returns")
    }

    /// Writes `bytes` at `offset` of `fd`.
    private static func write(_ bytes: [UInt8], fd: Int32, at offset: Int, target: String) throws {
        let code = bytes.withUnsafeBytes { FileBytes.writeAll(fd, $0, at: offset) }
        if code != 0 { throw failure(target, code) }
    }

    /// The error for a system call that failed with `code` while writing `target`.
    private static func failure(_ target: String, _ code: Int32) -> CheckpointError {
        CheckpointError(.writeFailed, file: target, problem: "cannot write the zip archive: \(String(cString: strerror(code)))")
    }
}
