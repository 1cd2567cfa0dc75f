import Dispatch
import Foundation
import Synchronization
import BNConvCore
import BNConvModel

/// Where the first NaN or infinite element of each weight the fold planner will check lies, found
/// ahead for all of them at once on every core: the weights of the layers next to a BatchNorm (its
/// producer and its consumers). A ResNet-50 folded without verification scans about 100 MB of
/// kernels lent by the input file's mapping; split over two cores, the page faults and the scan
/// take half the time.
///
/// Only weights that can be read on another thread (``Tensor/loadsConcurrently``) are scanned
/// ahead; the planner scans any other itself. Nothing is scanned ahead on one core or for less
/// than ``minimumBytes`` of weights.
struct NonFiniteWeightScan: Sendable {
    /// Results by ``key(_:_:)`` (set once, when every scan has finished).
    private let results: [String: Result<Int?, Error>]
    /// Below this many bytes of weights, the planner scans them itself.
    static let minimumBytes = 4 << 20

    /// No result: every weight is scanned by the planner when it needs it.
    init() { results = [:] }

    /// Scans the floating-point weights of the nodes next to `model`'s BatchNorms (when they hold
    /// at least `minimumBytes`).
    init(model: Model, minimumBytes: Int = NonFiniteWeightScan.minimumBytes) {
        let bnInputs = Set(model.batchNormIndices.flatMap { model.nodes[$0].inputs })
        let bnOutputs = Set(model.batchNormIndices.flatMap { model.nodes[$0].outputs })
        var work: [(key: String, tensor: Tensor)] = []
        for node in model.nodes where node.outputs.contains(where: bnInputs.contains) || node.inputs.contains(where: bnOutputs.contains) {
            for weight in node.weights where weight.tensor.dtype.isFloatingPoint && weight.tensor.loadsConcurrently {
                work.append((Self.key(node, weight), weight.tensor))
            }
        }
        let bytes = work.reduce(0) { $0 + $1.tensor.count * $1.tensor.dtype.byteCount }
        guard work.count > 1, bytes >= minimumBytes, ProcessInfo.processInfo.activeProcessorCount > 1 else {
            results = [:]
            return
        }
        // Largest first, so that the cores finish together.
        let sorted = work.sorted { $0.tensor.count > $1.tensor.count }
        let found = Mutex<[String: Result<Int?, Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: sorted.count) { i in
            let result = Result { try sorted[i].tensor.firstNonFiniteIndex() }
            found.withLock { $0[sorted[i].key] = result }
        }
        results = found.withLock { $0 }
    }

    /// The scan of `node`'s `weight` when it was made ahead: the first non-finite element's index
    /// or nil, or the read failure.
    func result(_ node: Node, _ weight: Weight) -> Result<Int?, Error>? {
        results[Self.key(node, weight)]
    }

    /// The key of one weight of one node.
    private static func key(_ node: Node, _ weight: Weight) -> String {
        "\(node.name)\u{0}\(weight.role.rawValue)"
    }
}
