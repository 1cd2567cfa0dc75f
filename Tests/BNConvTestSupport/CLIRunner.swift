import Foundation
import Synchronization
import XCTest

/// Runs the built `bnconv` binary (from the same build directory as the tests) and captures its output.
struct CLIRunner {
    /// The result of one run.
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Whether the process died by a signal (`status` is then the signal number).
        var signalled = false
        /// Whether it was killed for running past the timeout.
        var timedOut = false
    }

    /// The `bnconv` executable beside the test bundle.
    static var executable: URL {
        let bundle = Bundle(for: Marker.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent(), Bundle.main.bundleURL]
            .map { $0.appendingPathComponent("bnconv") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// Runs `bnconv args...` in `directory` and waits for it.
    static func run(_ args: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = args
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs `bnconv args...`, killing it (`SIGKILL`) after `timeout` seconds.
    static func run(_ args: [String], timeout: TimeInterval, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        final class Box: Sendable { let data = Mutex(Data()) }
        let outBox = Box(), errBox = Box()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            outBox.data.withLock { $0 = data }
        }
        DispatchQueue.global().async(group: readers) {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errBox.data.withLock { $0 = data }
        }
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
        }
        readers.wait()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outBox.data.withLock { $0 }, as: UTF8.self),
                      stderr: String(decoding: errBox.data.withLock { $0 }, as: UTF8.self),
                      signalled: process.terminationReason == .uncaughtSignal, timedOut: timedOut)
    }

    private final class Marker {}
}
