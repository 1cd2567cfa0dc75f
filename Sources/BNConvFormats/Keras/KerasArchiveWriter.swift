import Foundation
import ZIPFoundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a `.keras` zip as Keras does: members in the original order (metadata.json, config.json,
/// model.weights.h5, then any assets), all STORED, JSON members dated 1980-01-01 (docs/formats.md, The .keras archive).
enum KerasArchiveWriter {
    /// Writes `members` (with `config` and `weights` filled in for their slots) to `url`; a failure
    /// is a `CheckpointError` naming `target`, the file the user asked for.
    static func write(members: [KerasArchiveMember], config: [UInt8], weights: [UInt8], to url: URL, target: String) throws {
        do {
            try writeArchive(members: members, config: config, weights: weights, to: url)
        } catch {
            // ZIPFoundation reports only `unwritableFile`; the system's reason (a full disk) is in errno.
            let reason = errno != 0 ? String(cString: strerror(errno)) : "\(error)"
            throw CheckpointError(.writeFailed, file: target, problem: "cannot write the zip archive: \(reason)")
        }
    }

    private static func writeArchive(members: [KerasArchiveMember], config: [UInt8], weights: [UInt8], to url: URL) throws {
        errno = 0
        let archive = try Archive(url: url, accessMode: .create)
        var order = members
        for required in ["config.json", "model.weights.h5"] where !order.contains(where: { $0.path == required }) {
            order.append(KerasArchiveMember(path: required, data: []))
        }
        let dosEpoch = DateComponents(calendar: Calendar(identifier: .gregorian), year: 1980, month: 1, day: 1).date ?? Date()
        for member in order {
            let data: Data
            switch member.path {
            case "config.json": data = Data(config)
            case "model.weights.h5": data = Data(weights)
            default: data = Data(member.data)
            }
            let date = member.path == "model.weights.h5" ? Date() : dosEpoch
            try archive.addEntry(with: member.path, type: .file, uncompressedSize: Int64(data.count), modificationDate: date,
                                 compressionMethod: .none) { position, size in
                data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
    }
}
