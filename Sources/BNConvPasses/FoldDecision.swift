import BNConvCore
import BNConvModel

/// What the fold planner decided for one BatchNormalization node: fold it (and into what), or keep
/// it and why.
public struct FoldDecision: Codable, Equatable, Sendable {
    /// Which way a BN folds.
    public enum Direction: String, Codable, Sendable {
        /// Into the linear op before it (its output channels): the usual fold.
        case intoProducer = "into-producer"
        /// Into the conv or dense after it (its input channels); only when that op pads nothing.
        case intoConsumer = "into-consumer"
    }

    /// The BatchNorm node's name.
    public var batchNorm: String
    /// The node it folds into, or `nil` when it is kept.
    public var target: String?
    /// The target's op name ("Conv2D", "Dense", ...), for reports.
    public var targetOp: String?
    /// Which way it folds, when it folds.
    public var direction: Direction?
    /// Why it is kept, when it is kept.
    public var reason: String?

    /// Whether the BN folds.
    public var folds: Bool { target != nil }

    /// A decision to fold `batchNorm` into `target`.
    public static func fold(_ batchNorm: String, into target: String, op: String, direction: Direction) -> FoldDecision {
        FoldDecision(batchNorm: batchNorm, target: target, targetOp: op, direction: direction, reason: nil)
    }

    /// A decision to keep `batchNorm`, with the reason in words.
    public static func keep(_ batchNorm: String, because reason: String) -> FoldDecision {
        FoldDecision(batchNorm: batchNorm, target: nil, targetOp: nil, direction: nil, reason: reason)
    }
}
