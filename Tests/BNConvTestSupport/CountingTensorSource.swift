@testable import BNConvCore
import Foundation
import Synchronization

/// A ``TensorSource`` for tests: hands out fixed bytes (or an error) and counts the reads.
final class CountingTensorSource: TensorSource, Sendable {
    /// The bytes each read returns.
    let bytes: [UInt8]
    /// Thrown by every read instead, when set.
    let failure: (any Error)?
    /// Whether it says it may be read on another thread.
    let loadsConcurrently: Bool
    /// How many reads so far (a prefetcher reads on another thread).
    private let readCount = Atomic<Int>(0)
    /// How many times the bytes were read.
    var reads: Int { readCount.load(ordering: .relaxed) }

    /// A source of `tensor`'s bytes.
    init(_ tensor: Tensor, concurrent: Bool = false) {
        bytes = tensor.bytes
        failure = nil
        loadsConcurrently = concurrent
    }

    /// A source whose reads fail with `failure`.
    init(failing failure: any Error, concurrent: Bool = false) {
        bytes = []
        self.failure = failure
        loadsConcurrently = concurrent
    }

    func loadBytes() throws -> [UInt8] {
        readCount.add(1, ordering: .relaxed)
        if let failure { throw failure }
        return bytes
    }
}
