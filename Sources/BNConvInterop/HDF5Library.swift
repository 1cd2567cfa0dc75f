import CHDF5
import BNConvCore

/// Process-wide libhdf5 set-up and the error-stack capture every wrapper uses.
enum HDF5Library {
    /// Silences HDF5's automatic error printing once per process (the stack is read instead).
    static let silenced: Void = {
        _ = H5open()
        chdf5_silence_errors()
    }()

    /// Makes sure the library is initialised and silent; call before any HDF5 call.
    @inline(__always)
    static func prepare() { _ = silenced }

    /// The current thread's error stack as one line (innermost first, at most 3 entries), then cleared.
    static func takeErrorMessage() -> String {
        var buffer = [CChar](repeating: 0, count: 2048)
        chdf5_take_error_stack(&buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return condensed(text)
    }

    /// One line from libhdf5's error stack text: at most its first three entries, whitespace runs
    /// (libhdf5's write errors hold a `ctime` line break) made one space, and a system error
    /// (`errno = 28, error message = 'No space left on device'`) put first, in its own words.
    static func condensed(_ text: String) -> String {
        let flat = text.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
        let parts = flat.components(separatedBy: "; ").filter { !$0.isEmpty }
        if let system = parts.lazy.compactMap(systemError).first, let first = parts.first {
            let function = first.prefix { $0 != ":" }
            return "\(system) (\(function))"
        }
        return parts.prefix(3).joined(separator: "; ")
    }

    /// The `error message = '...'` a libhdf5 driver error quotes from the system, if any.
    private static func systemError(_ part: String) -> String? {
        guard let start = part.range(of: "error message = '") else { return nil }
        let rest = part[start.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }

    /// Throws an ``HDF5Error`` when `status` is negative.
    @inline(__always)
    static func check(_ status: herr_t, file: String, path: String, _ operation: @autoclosure () -> String) throws {
        if status < 0 {
            throw HDF5Error(file: file, path: path, operation: operation(), message: takeErrorMessage())
        }
    }

    /// Returns `id`, or throws an ``HDF5Error`` when it is negative.
    @inline(__always)
    static func checked(_ id: hid_t, file: String, path: String, _ operation: @autoclosure () -> String) throws -> hid_t {
        if id < 0 {
            throw HDF5Error(file: file, path: path, operation: operation(), message: takeErrorMessage())
        }
        return id
    }

    /// Joins an object path and a child name (`/` + `a` = `/a`, `/a` + `b/c` = `/a/b/c`).
    static func join(_ parent: String, _ child: String) -> String {
        if child.hasPrefix("/") { return child }
        return parent.hasSuffix("/") ? parent + child : parent + "/" + child
    }
}
