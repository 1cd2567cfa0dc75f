@testable import BNConvCore
@testable import BNConvTestSupport
import XCTest

final class ConcurrentTensorWriterTests: XCTestCase {
    private struct ReadFailure: Error {}

    /// An empty scratch file.
    private func file() throws -> String {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tensors.bin").path
        try FileBytes.create(path, bytes: [])
        return path
    }

    /// Deferred tensors readable on another thread, of sizes around the direct-I/O block, and one
    /// computed (a source that writes its result straight into the writer's buffer).
    private func tensors() throws -> [Tensor] {
        var result = [5, 1024, 1025, 3000, 70_000].enumerated().map { i, n in
            Tensor(dtype: .float32, shape: [n], source: CountingTensorSource(Tensor(shape: [n], floats: (0..<n).map { Float(i * 1_000_000 + $0) }), concurrent: true))
        }
        let base = Tensor(dtype: .float32, shape: [2, 4096], source: CountingTensorSource(Tensor(shape: [2, 4096], floats: (0..<8192).map { Float($0) }), concurrent: true))
        result.append(try base.mappedBytes(writing: { raw, out in
            for i in 0..<8192 { out.storeBytes(of: -raw.load(fromByteOffset: i * 4, as: Float.self), toByteOffset: i * 4, as: Float.self) }
        }))
        return result
    }

    /// Every tensor lands at its offset (unaligned and aligned ones) with its own bytes, with and
    /// without direct I/O and with no, one or three extra threads.
    func testEveryTensorLandsAtItsOffset() throws {
        for direct in [true, false] {
            for workers in [0, 1, 3] {
                let path = try file()
                let items = try tensors()
                var offsets: [Int] = []
                var next = 17
                for tensor in items {
                    offsets.append(next)
                    next += tensor.count * 4 + (offsets.count % 2 == 0 ? 4096 - next % 4096 : 13)
                }
                let writer = try ConcurrentTensorWriter(path: path, workers: workers, direct: direct)
                for (tensor, offset) in zip(items, offsets) { writer.enqueue(tensor, at: offset) }
                try writer.finish()
                let bytes = try FileBytes.read(path)
                for (tensor, offset) in zip(items, offsets) {
                    let expected = try tensor.materialized().bytes
                    XCTAssertEqual(Array(bytes[offset..<(offset + expected.count)]), expected, "direct \(direct), workers \(workers), offset \(offset)")
                }
            }
        }
    }

    /// Buffers beyond the first are made only within the byte budget: tensors of 256 KiB with a
    /// budget of 300 KiB go through one buffer, with the default budget through up to ``depth``;
    /// either way every tensor lands at its offset.
    func testBuffersBeyondTheFirstStayWithinTheBudget() throws {
        let n = 65_536
        for (budget, most) in [(300 << 10, 1), (ConcurrentTensorWriter.bufferBudget, 3)] {
            let path = try file()
            let items = (0..<6).map { i in
                Tensor(dtype: .float32, shape: [n], source: CountingTensorSource(Tensor(shape: [n], floats: (0..<n).map { Float(i * n + $0) }), concurrent: true))
            }
            let writer = try ConcurrentTensorWriter(path: path, workers: 1, bufferBudget: budget)
            for (i, tensor) in items.enumerated() { writer.enqueue(tensor, at: i * n * 4) }
            try writer.finish()
            XCTAssertLessThanOrEqual(writer.buffersMade, most, "budget \(budget)")
            XCTAssertGreaterThanOrEqual(writer.buffersMade, 1)
            XCTAssertLessThanOrEqual(writer.buffersMade, writer.depth)
            let bytes = try FileBytes.read(path)
            for (i, tensor) in items.enumerated() {
                XCTAssertEqual(Array(bytes[(i * n * 4)..<((i + 1) * n * 4)]), try tensor.materialized().bytes, "budget \(budget), tensor \(i)")
            }
        }
    }

    /// A tensor that cannot be read makes `finish()` throw that error; nothing hangs.
    func testAFailureIsThrownByFinish() throws {
        let path = try file()
        let writer = try ConcurrentTensorWriter(path: path, workers: 1)
        let good = try tensors()
        writer.enqueue(good[4], at: 0)
        writer.enqueue(Tensor(dtype: .float32, shape: [10], source: CountingTensorSource(failing: ReadFailure(), concurrent: true)), at: 300_000)
        for (i, tensor) in good.enumerated() { writer.enqueue(tensor, at: 400_000 + i * 100_000) }
        XCTAssertThrowsError(try writer.finish()) { XCTAssertTrue($0 is ReadFailure, "\($0)") }
    }

    /// A writer dropped before `finish()` (its caller failed) stops, and once it is gone no
    /// thread of it reads anything more.
    func testDroppingTheWriterStopsIt() throws {
        let path = try file()
        let sources = (0..<200).map { i in CountingTensorSource(Tensor(shape: [20_000], floats: [Float](repeating: Float(i), count: 20_000)), concurrent: true) }
        var writer: ConcurrentTensorWriter? = try ConcurrentTensorWriter(path: path, workers: 2)
        for (i, source) in sources.enumerated() { writer?.enqueue(Tensor(dtype: .float32, shape: [20_000], source: source), at: i * 80_000) }
        writer = nil
        let reads = sources.map(\.reads).reduce(0, +)
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(sources.map(\.reads).reduce(0, +), reads, "nothing is read after the writer is gone")
    }
}
