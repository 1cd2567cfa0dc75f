import Foundation

/// One run of this `bnconv` binary as a child process, its standard output and error captured in
/// unlinked temporary files (no pipe to drain while it runs, nothing left behind if bnconv dies)
/// and its standard input the null device. `onExit` is called, on another thread, when it ends.
final class ChildProcess {
    /// How a child ended and what it printed.
    struct Outcome {
        /// The exit status, or 1 when a signal ended it.
        var status: Int32
        /// The signal that ended it, if one did.
        var signal: Int32?
        /// What it printed on standard output.
        var stdout: Data
        /// What it printed on standard error.
        var stderr: Data
        /// Wall-clock seconds from its start to its end.
        var seconds: Double
    }

    private let process = Process()
    private let stdoutFile: Int32
    private let stderrFile: Int32
    private let start = ContinuousClock.now

    /// Starts `bnconv arguments...` in the current directory with this process's environment.
    init(arguments: [String], onExit: @escaping @Sendable () -> Void) throws {
        stdoutFile = try ChildProcess.unlinkedTemporaryFile()
        do {
            stderrFile = try ChildProcess.unlinkedTemporaryFile()
        } catch {
            close(stdoutFile)
            throw error
        }
        process.executableURL = ChildProcess.executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        // The child gets its own descriptors; ours stay open to read the files back.
        process.standardOutput = FileHandle(fileDescriptor: dup(stdoutFile), closeOnDealloc: true)
        process.standardError = FileHandle(fileDescriptor: dup(stderrFile), closeOnDealloc: true)
        process.terminationHandler = { _ in onExit() }
        do {
            try process.run()
        } catch {
            close(stdoutFile)
            close(stderrFile)
            throw error
        }
    }

    deinit {
        close(stdoutFile)
        close(stderrFile)
    }

    /// How it ended; call once `onExit` was called.
    func outcome() -> Outcome {
        process.waitUntilExit()
        let seconds = start.duration(to: .now)
        let signalled = process.terminationReason == .uncaughtSignal
        return Outcome(status: signalled ? 1 : process.terminationStatus, signal: signalled ? process.terminationStatus : nil,
                       stdout: ChildProcess.contents(of: stdoutFile), stderr: ChildProcess.contents(of: stderrFile),
                       seconds: Double(seconds.components.seconds) + Double(seconds.components.attoseconds) * 1e-18)
    }

    /// This binary: the file `/proc/self/exe` links to where there is one (Linux), else the main
    /// bundle's executable, else the first argument.
    static let executable: URL = {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
           FileManager.default.isExecutableFile(atPath: target) {
            return URL(fileURLWithPath: target)
        }
        if FileManager.default.isExecutableFile(atPath: "/proc/self/exe") { return URL(fileURLWithPath: "/proc/self/exe") }
        if let path = Bundle.main.executablePath { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0])
    }()

    /// A new temporary file, already unlinked, open for reading and writing.
    private static func unlinkedTemporaryFile() throws -> Int32 {
        var template = Array((FileManager.default.temporaryDirectory.path + "/bnconv-child-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: FileManager.default.temporaryDirectory.path]) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    /// Everything written to the file `fd` from its start.
    private static func contents(of fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            data.append(contentsOf: buffer[0..<count])
            offset += off_t(count)
        }
        return data
    }
}
