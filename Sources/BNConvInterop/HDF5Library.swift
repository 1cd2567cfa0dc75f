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
        let parts = text.components(separatedBy: "; ").filter { !$0.isEmpty }
        return parts.prefix(3).joined(separator: "; ")
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
