@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvCalibration
@testable import BNConvPipeline
import Foundation

/// A ``TensorSource`` for tests: hands out fixed bytes (or an error) and counts the reads.
final class CountingTensorSource: TensorSource, @unchecked Sendable {
    /// The bytes each read returns.
    let bytes: [UInt8]
    /// Thrown by every read instead, when set.
    let failure: Error?
    /// Whether it says it may be read on another thread.
    let loadsConcurrently: Bool
    /// Guards ``reads`` (a prefetcher reads on another thread).
    private let lock = NSLock()
    /// How many reads so far.
    private var readCount = 0
    /// How many times the bytes were read.
    var reads: Int { lock.lock(); defer { lock.unlock() }; return readCount }

    /// A source of `tensor`'s bytes.
    init(_ tensor: Tensor, concurrent: Bool = false) {
        bytes = tensor.bytes
        failure = nil
        loadsConcurrently = concurrent
    }

    /// A source whose reads fail with `failure`.
    init(failing failure: Error, concurrent: Bool = false) {
        bytes = []
        self.failure = failure
        loadsConcurrently = concurrent
    }

    func loadBytes() throws -> [UInt8] {
        lock.lock()
        readCount += 1
        lock.unlock()
        if let failure { throw failure }
        return bytes
    }
}
