import Dispatch
import Foundation
import Synchronization

/// Loads deferred tensors on another core, in the order a writer will ask for them, a bounded
/// number ahead of it: while the writer hands one tensor to a library that must stay on its
/// thread (libhdf5 here is the serial build), the next one is computed (a folded kernel scaled
/// from the input file's mapping).
///
/// Only tensors that ``Tensor/loadsConcurrently`` are taken; a writer asks with ``take(_:)``,
/// which returns `nil` for a tensor the prefetcher does not hold (the writer loads it itself).
/// At most ``ahead`` loaded tensors wait beside the one being written, so the peak memory grows
/// by that many tensors, not by the model. A load that fails is reported by ``take(_:)`` for that
/// tensor. Dropping the prefetcher stops the loading after the tensor in hand.
package final class TensorPrefetcher {
    /// Tensors loaded ahead of the writer, at most.
    let ahead: Int
    /// Position in the order by source identity.
    private let positions: [ObjectIdentifier: Int]
    /// State shared with the loading thread.
    private let shared: Shared
    /// The next position the writer has not taken.
    private var next = 0

    /// Starts loading `tensors` (those that are deferred and load concurrently; others are left
    /// out) in order, at most `ahead` ahead of the writer. Nothing starts on one core or when
    /// fewer than two tensors qualify.
    package init(_ tensors: [Tensor], ahead: Int = 2) {
        let eligible = tensors.filter { $0.isDeferred && $0.loadsConcurrently }
        var positions: [ObjectIdentifier: Int] = [:]
        var order: [Tensor] = []
        for tensor in eligible {
            let key = ObjectIdentifier(tensor.source!)
            if positions[key] == nil {
                positions[key] = order.count
                order.append(tensor)
            }
        }
        let active = order.count > 1 && ProcessInfo.processInfo.activeProcessorCount > 1
        self.ahead = max(1, ahead)
        self.positions = active ? positions : [:]
        self.shared = Shared(count: active ? order.count : 0, ahead: self.ahead)
        if active { shared.start(order) }
    }

    deinit { shared.cancel() }

    /// The loaded copy of `tensor` when the prefetcher holds it (waiting for it if it is still
    /// being loaded; tensors before it that were never asked for are dropped), else `nil`.
    package func take(_ tensor: Tensor) throws -> Tensor? {
        guard let source = tensor.source, let position = positions[ObjectIdentifier(source)], position >= next else {
            return nil
        }
        while next < position {
            _ = shared.wait(next)
            next += 1
        }
        next = position + 1
        return try shared.wait(position).get()
    }

    /// The loading thread's side: results by position, one semaphore per position, and the slots
    /// that bound how far ahead it runs.
    private final class Shared: Sendable {
        /// Loaded results by position, and whether the consumer stopped.
        private struct State {
            var results: [Int: Result<Tensor, any Error>] = [:]
            var cancelled = false
        }
        private let state = Mutex(State())
        private let ready: [DispatchSemaphore]
        private let slots: DispatchSemaphore

        init(count: Int, ahead: Int) {
            ready = (0..<count).map { _ in DispatchSemaphore(value: 0) }
            // Made at 0 and signalled up: libdispatch stops the process when a semaphore is freed
            // below the value it was made with (here: a writer that stopped early).
            slots = DispatchSemaphore(value: 0)
            for _ in 0..<ahead { slots.signal() }
        }

        /// Loads `order` on a utility thread.
        func start(_ order: [Tensor]) {
            DispatchQueue.global(qos: .userInitiated).async { [self] in
                for (i, tensor) in order.enumerated() {
                    slots.wait()
                    if state.withLock({ $0.cancelled }) { return }
                    let result = Result { try tensor.materialized() }
                    state.withLock { $0.results[i] = result }
                    ready[i].signal()
                }
            }
        }

        /// Waits for position `i`, hands its result over and frees its slot.
        func wait(_ i: Int) -> Result<Tensor, any Error> {
            ready[i].wait()
            let result = state.withLock { $0.results.removeValue(forKey: i)! }
            slots.signal()
            return result
        }

        /// Stops the loading: the thread finishes the tensor in hand and returns.
        func cancel() {
            state.withLock {
                $0.cancelled = true
                $0.results.removeAll()
            }
            slots.signal()
        }
    }
}
