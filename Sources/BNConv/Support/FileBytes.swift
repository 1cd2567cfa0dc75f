import Foundation

/// Reads a whole file into one byte array with a single copy (`read(2)` straight into the array's
/// storage), for readers that keep the bytes.
enum FileBytes {
    /// The bytes of the file at `path`; an error names the file and the system's reason.
    static func contents(of path: String) throws -> [UInt8] {
        func failure(_ what: String) -> CheckpointError {
            CheckpointError(.cannotOpen, file: path, problem: "cannot read the file (\(what): \(String(cString: strerror(errno))))")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("stat") }
        guard info.st_mode & S_IFMT != S_IFDIR else {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot read the file (it is a directory)")
        }
        let size = Int(info.st_size)
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            if let base = buffer.baseAddress { FreshMemory.prepare(UnsafeMutableRawPointer(base), count: size) }
            while initialized < size {
                let n = read(fd, buffer.baseAddress! + initialized, size - initialized)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                initialized += n
            }
        }
        guard bytes.count == size else { throw failure("read") }
        // A file that grew since fstat (or a pipe): read the rest.
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw failure("read") }
            if n == 0 { break }
            bytes += chunk[..<n]
        }
        return bytes
    }
}
