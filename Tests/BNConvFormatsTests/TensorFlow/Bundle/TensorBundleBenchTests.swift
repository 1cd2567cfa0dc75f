import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Opt-in timing (BNCONV_BENCH_BUNDLE=PREFIX, run by tools/bench/bundle_read.sh on a release build):
/// reading every tensor of the bundle at PREFIX through ``TensorBundle`` (the index, and each
/// tensor's CRC-32C over its mapped bytes: every byte read once) against `cp` of its files, warm,
/// best of 5. Prints the figures; asserts nothing about time.
final class TensorBundleBenchTests: XCTestCase {
    private func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    func testReadEveryTensorAgainstCopy() throws {
        guard let prefix = ProcessInfo.processInfo.environment["BNCONV_BENCH_BUNDLE"] else {
            throw XCTSkip("set BNCONV_BENCH_BUNDLE=PREFIX (tools/bench/bundle_read.sh)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: (prefix as NSString).deletingLastPathComponent)
            .filter { $0.hasPrefix((prefix as NSString).lastPathComponent + ".") }
            .map { ((prefix as NSString).deletingLastPathComponent as NSString).appendingPathComponent($0) }
        let total = files.compactMap { FileBytes.size(of: $0) }.reduce(0, +)
        let copyDir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: copyDir) }

        var mapped = 0, tensors = 0
        var read = Double.infinity, copy = Double.infinity
        for _ in 0..<5 {
            try? FileManager.default.removeItem(at: copyDir.appendingPathComponent("out"))
            try FileManager.default.createDirectory(at: copyDir.appendingPathComponent("out"), withIntermediateDirectories: true)
            let cp = Process()
            cp.executableURL = URL(fileURLWithPath: "/bin/cp")
            cp.arguments = files + [copyDir.appendingPathComponent("out").path]
            copy = min(copy, try seconds { try cp.run(); cp.waitUntilExit() })
            XCTAssertEqual(cp.terminationStatus, 0)
            read = min(read, try seconds {
                let bundle = try TensorBundle(prefix: prefix)
                (mapped, tensors) = (0, 0)
                for key in bundle.keys {
                    let tensor = try bundle.tensor(key)
                    tensors += 1
                    if tensor.source is FileRangeSource { mapped += 1 }
                }
            })
        }
        let mb = Double(total) / 1e6
        print(String(format: "bundle_read: %d tensors (%d mapped, not copied), %.1f MB: read every tensor %.1f ms (%.2f GB/s), cp %.1f ms (%.2f GB/s): %.2fx cp",
                     tensors, mapped, mb, read * 1e3, mb / read / 1e3, copy * 1e3, mb / copy / 1e3, read / copy))
    }
}
