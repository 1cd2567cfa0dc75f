@testable import BNConv
import Foundation

/// A ``TensorSource`` for tests: hands out fixed bytes (or an error) and counts the reads.
final class CountingTensorSource: TensorSource, @unchecked Sendable {
    /// The bytes each read returns.
    let bytes: [UInt8]
    /// Thrown by every read instead, when set.
    let failure: Error?
    /// How many times the bytes were read.
    private(set) var reads = 0

    /// A source of `tensor`'s bytes.
    init(_ tensor: Tensor) {
        bytes = tensor.bytes
        failure = nil
    }

    /// A source whose reads fail with `failure`.
    init(failing failure: Error) {
        bytes = []
        self.failure = failure
    }

    func loadBytes() throws -> [UInt8] {
        reads += 1
        if let failure { throw failure }
        return bytes
    }
}
