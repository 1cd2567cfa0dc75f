import Foundation

/// Where a writer puts its output bytes, in order: kept in memory, or written to an open file
/// through a 1 MiB buffer (pieces of 256 KiB and more go to `write(2)` directly, so a weight is
/// never copied to be written).
///
/// Appending never throws, so C code can append through a callback (protobuf-c's
/// `pack_to_buffer`); the first failure is kept and later appends are dropped. ``finish()``
/// flushes and reports it.
package final class ByteSink {
    /// Everything appended, for a sink made with ``init()``.
    package private(set) var bytes: [UInt8] = []
    /// How many bytes were appended (skipped ones included): the offset of the next.
    package private(set) var count = 0
    /// Whether the file's end is a skipped range, which ``finish()`` makes part of the file.
    private var endsInGap = false
    private let descriptor: Int32?
    private let path: String
    private var buffer: UnsafeMutableRawBufferPointer?
    private var buffered = 0
    private var failure: CheckpointError?

    private static let bufferSize = 1 << 20
    private static let directWrite = 1 << 18

    /// A sink that keeps the bytes in ``bytes``.
    package init() {
        descriptor = nil
        path = ""
    }

    /// A sink that writes to the open file `descriptor` (not closed by the sink); `path` names it
    /// in errors.
    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit { buffer?.deallocate() }

    /// Appends `piece`.
    package func append(_ piece: UnsafeRawBufferPointer) {
        guard failure == nil, !piece.isEmpty else { return }
        count += piece.count
        endsInGap = false
        guard let buffer else {
            bytes.append(contentsOf: piece)
            return
        }
        if piece.count >= Self.directWrite || piece.count > buffer.count - buffered {
            flushBuffer()
        }
        if piece.count >= Self.directWrite {
            writeAll(piece)
        } else {
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered...]).copyMemory(from: piece)
            buffered += piece.count
        }
    }

    /// Appends `piece`.
    package func append(_ piece: [UInt8]) { piece.withUnsafeBytes { append($0) } }

    /// Appends `piece`.
    func append(_ piece: ArraySlice<UInt8>) { piece.withUnsafeBytes { append($0) } }

    /// Leaves the next `gap` bytes to be written by someone else (at offsets ``count`` to
    /// ``count`` + `gap`, with `pwrite`, once the sink is finished): the file position moves past
    /// them. A sink in memory appends zeros.
    package func skip(_ gap: Int) {
        guard failure == nil, gap > 0 else { return }
        count += gap
        guard let descriptor else {
            bytes.append(contentsOf: repeatElement(0, count: gap))
            return
        }
        flushBuffer()
        guard failure == nil else { return }
        if lseek(descriptor, off_t(gap), SEEK_CUR) < 0 {
            failure = CheckpointError(.writeFailed, file: path, problem: "cannot seek: \(String(cString: strerror(errno)))")
        }
        endsInGap = true
    }

    /// Writes out what is buffered (the file is as long as everything appended and skipped);
    /// throws the first failure of any append.
    package func finish() throws {
        flushBuffer()
        if let descriptor, endsInGap, failure == nil, ftruncate(descriptor, off_t(count)) != 0 {
            failure = CheckpointError(.writeFailed, file: path, problem: "cannot extend the file: \(String(cString: strerror(errno)))")
        }
        endsInGap = false
        if let failure { throw failure }
    }

    private func flushBuffer() {
        guard let buffer, buffered > 0 else { return }
        let pending = buffered
        buffered = 0
        writeAll(UnsafeRawBufferPointer(rebasing: buffer[..<pending]))
    }

    private func writeAll(_ piece: UnsafeRawBufferPointer) {
        guard let descriptor, failure == nil else { return }
        let code = FileBytes.writeAll(descriptor, piece)
        if code != 0 {
            failure = CheckpointError(.writeFailed, file: path, problem: "cannot write: \(String(cString: strerror(code)))")
        }
    }

    /// Creates (or truncates) the file at `path`, runs `body` with a sink writing to it, flushes
    /// and closes it. `file` names the target in errors.
    package static func writing(to path: String, file: String, _ body: (ByteSink) throws -> Void) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw CheckpointError(.writeFailed, file: file, problem: "cannot create a file in its directory: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let sink = ByteSink(descriptor: fd, path: file)
        try body(sink)
        try sink.finish()
    }
}
