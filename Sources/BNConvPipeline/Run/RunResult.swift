import BNConvCore
import BNConvModel
import BNConvEngine

/// What ``ModelRun/run(_:progress:)`` did: the inputs fed, the outputs, and the times.
public struct RunResult: Sendable {
    /// Time spent in one op kind during the last timed run.
    public struct OpTime: Sendable {
        /// The op kind.
        public var op: String
        /// How many nodes of that kind ran.
        public var nodes: Int
        /// Their summed wall time.
        public var milliseconds: Double
    }

    /// One node's time during the last timed run.
    public struct NodeTime: Sendable {
        /// The node's name.
        public var node: String
        /// Its op kind.
        public var op: String
        /// The shape it wrote.
        public var shape: [Int]
        /// Its wall time (a fused chain counts as its first node).
        public var milliseconds: Double
    }

    /// The request carried out.
    public var request: RunRequest
    /// The checkpoint's format.
    public var format: CheckpointFormat
    /// Nodes in the model.
    public var nodeCount: Int
    /// The model's input and output names.
    public var inputNames: [String], outputNames: [String]
    /// The tensors fed, one per input.
    public var inputs: [Tensor]
    /// The outputs, one per model output.
    public var outputs: [Tensor]
    /// Where each output was saved (with ``RunRequest/outputFile``).
    public var outputFiles: [String]?
    /// Seconds to read the checkpoint.
    public var loadSeconds: Double
    /// Milliseconds of the first run.
    public var firstRunMilliseconds: Double
    /// Milliseconds of each timed run.
    public var timedMilliseconds: [Double]
    /// Per op kind, the last run's times, slowest first (with per-node timing on).
    public var opTimes: [OpTime]
    /// Per node, the last run's times, slowest first (with per-node timing on).
    public var nodeTimes: [NodeTime] = []
    /// The nodes the last run did not run because they were evaluated once when its input shapes
    /// were planned (``RunOptions/foldsConstants``).
    public var constantFolding: ConstantFolding = .none
    /// How many kernels the last run ran (a fused chain counts once).
    public var kernelsPerRun = 0
}
