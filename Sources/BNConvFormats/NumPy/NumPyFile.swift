import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads and writes NumPy `.npy` files (versions 1.0, 2.0 and 3.0; C order, little-endian).
///
/// Reads `<f4`, `<f2`, `<f8`, `|u1`, `|i1`, `<i2`, `<i4`, `<i8`, `|b1`; refuses Fortran order,
/// big-endian and object or structured dtypes (pickles), headers over 10000 bytes, and files whose
/// data is shorter than the header says (checked before allocating). Writes version 1.0 (2.0 when
/// the header needs it) to a temporary file beside the target, renamed into place on success.
public enum NumPyFile {
    /// numpy's safe reader's header limit (`_MAX_HEADER_SIZE`).
    public static let maximumHeaderSize = 10_000
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads the array in `path`; `limits` bounds what it may allocate.
    public static func read(_ path: String, limits: ReadLimits = ReadLimits(), allowsSpecialFiles: Bool = false) throws -> Tensor {
        try RegularFile.require(path, allowingSpecial: allowsSpecialFiles)
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot read: \((error as NSError).localizedDescription)")
        }
        return try decode(data, file: path, limits: limits)
    }

    /// Decodes the bytes of a `.npy` file; `file` names it in errors, `limits` bounds what it may allocate.
    public static func decode(_ data: Data, file: String, limits: ReadLimits = ReadLimits()) throws -> Tensor {
        func fail(_ kind: CheckpointError.Kind, _ problem: String) -> CheckpointError {
            CheckpointError(kind, file: file, problem: problem)
        }
        func fail(_ problem: String) -> CheckpointError { fail(.malformed, problem) }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Tensor in
            guard raw.count >= 10, Array(raw[0..<6]) == magic else {
                throw fail(.unrecognizedFormat, "not a .npy file (no \\x93NUMPY magic)")
            }
            let major = raw[6]
            let lengthBytes: Int
            switch major {
            case 1: lengthBytes = 2
            case 2, 3: lengthBytes = 4
            default: throw fail(.unsupported, ".npy format version \(major).\(raw[7]) is not supported (1, 2, 3 are)")
            }
            guard raw.count >= 8 + lengthBytes else { throw fail("the file ends inside the header length") }
            var headerLength = 0
            for i in 0..<lengthBytes { headerLength |= Int(raw[8 + i]) << (8 * i) }
            guard headerLength <= maximumHeaderSize else {
                throw fail(.unsupported, "header of \(headerLength) bytes exceeds the \(maximumHeaderSize)-byte limit")
            }
            let dataStart = 8 + lengthBytes + headerLength
            guard raw.count >= dataStart else { throw fail("the file ends inside the \(headerLength)-byte header") }
            let headerBytes = Array(raw[(8 + lengthBytes)..<dataStart])
            let text = major == 3 ? String(decoding: headerBytes, as: UTF8.self)
                                  : String(headerBytes.map { Character(Unicode.Scalar($0)) })
            let header: NumPyHeader
            do {
                header = try NumPyHeader(parsing: text)
            } catch let problem as NumPyHeaderProblem {
                throw fail("bad header: \(problem.message)")
            }
            guard !header.fortranOrder else {
                throw fail(.unsupported, "Fortran-order arrays are not supported (save with C order: np.ascontiguousarray)")
            }
            guard let dtype = NumPyHeader.readable[header.descr] else {
                let why = header.descr.hasPrefix(">") ? "big-endian data is not supported"
                    : header.descr.contains("O") ? "object arrays (pickled) are not supported"
                    : "dtype '\(header.descr)' is not supported"
                throw fail(.unsupported, why)
            }
            guard let count = ElementCount.of(header.shape) else { throw fail("shape \(header.shape) is too large") }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow else { throw fail("shape \(header.shape) is too large") }
            if let refusal = limits.refusal(count: count, elementBytes: dtype.byteCount) {
                throw fail(.unsupported, "shape \(header.shape) of \(header.descr): \(refusal)")
            }
            guard raw.count - dataStart >= byteCount else {
                throw fail("data is \(raw.count - dataStart) bytes, the header's shape \(header.shape) of \(header.descr) needs \(byteCount)")
            }
            let bytes = Array(UnsafeRawBufferPointer(rebasing: raw[dataStart..<(dataStart + byteCount)]))
            return try Tensor(dtype: dtype, shape: header.shape, bytes: bytes)
        }
    }

    /// The bytes of a `.npy` file holding `tensor` (version 1.0, or 2.0 for a header over 65535 bytes).
    public static func encode(_ tensor: Tensor, file: String = "<memory>") throws -> Data {
        guard let descr = NumPyHeader.descr(for: tensor.dtype) else {
            throw CheckpointError(.unsupported, file: file, problem: "\(tensor.dtype.rawValue) has no .npy dtype")
        }
        var text = NumPyHeader(descr: descr, shape: tensor.shape).literal
        let long = text.utf8.count + 12 > 65_535
        let prefix = long ? 12 : 10
        let total = (prefix + text.utf8.count + 1 + 63) / 64 * 64
        text += String(repeating: " ", count: total - prefix - text.utf8.count - 1) + "\n"
        var out = Data(magic)
        out.append(contentsOf: [long ? 2 : 1, 0])
        let length = text.utf8.count
        if long {
            out.append(contentsOf: (0..<4).map { UInt8((length >> (8 * $0)) & 0xFF) })
        } else {
            out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        }
        out.append(contentsOf: Array(text.utf8))
        out.append(contentsOf: tensor.bytes)
        return out
    }

    /// Writes `tensor` to `path` through ``AtomicFile`` (a synced temporary file beside it,
    /// renamed on success).
    public static func write(_ tensor: Tensor, to path: String) throws {
        let data = try encode(tensor, file: path)
        try AtomicFile.write([UInt8](data), to: path)
    }
}
