import BNConvCore
import BNConvModel
import BNConvEngine

/// Which value of a candidate model carries the same numbers as which value of a reference model.
///
/// Values with the same name correspond, except around a folded BatchNorm: when the reference's
/// BN (input `x`, output `u`) is gone from the candidate and its producer (a conv or dense) is
/// still there, the candidate's `x` now computes the reference's `u` (the BN folded into its
/// producer). A BN folded into the op after it leaves `x` as it was.
public struct ValueCorrespondence: Sendable {
    /// Candidate value name -> reference value name.
    public private(set) var referenceFor: [String: String]

    /// Derives the correspondence from two models' structure; `foldMap` (removed reference value ->
    /// candidate value, as ``FoldBatchNorm/Result/valueMap`` gives) overrides the derivation.
    public init(reference: Model, candidate: Model, foldMap: [String: String]? = nil) {
        var map: [String: String] = [:]
        var referenceValues = Set(reference.inputs)
        for node in reference.nodes { referenceValues.formUnion(node.outputs) }
        var candidateValues = Set(candidate.inputs)
        for node in candidate.nodes { candidateValues.formUnion(node.outputs) }
        for value in candidateValues where referenceValues.contains(value) { map[value] = value }

        if let foldMap {
            for (removed, carrier) in foldMap { map[carrier] = removed }
        } else {
            let candidateNames = Set(candidate.nodes.map(\.name))
            for node in reference.nodes where !candidateNames.contains(node.name) {
                guard case .batchNorm = node.op, node.inputs.count == 1, node.outputs.count == 1 else { continue }
                let x = node.inputs[0], u = node.outputs[0]
                guard let p = reference.producerIndex(of: x), candidateNames.contains(reference.nodes[p].name) else { continue }
                switch reference.nodes[p].op {
                case .conv, .depthwiseConv, .separableConv, .convTranspose, .dense:
                    map[x] = u
                default:
                    continue
                }
            }
            // A chain of folded BNs (x -> u1 -> u2): follow to the last one.
            for (candidateValue, var referenceValue) in map where candidateValue != referenceValue {
                var seen = Set<String>()
                while let next = Self.foldedSuccessor(of: referenceValue, in: reference, candidateNames: candidateNames),
                      seen.insert(next).inserted {
                    referenceValue = next
                }
                map[candidateValue] = referenceValue
            }
        }
        referenceFor = map
    }

    /// The output of a removed BN that reads `value` directly and alone, if any.
    private static func foldedSuccessor(of value: String, in model: Model, candidateNames: Set<String>) -> String? {
        let consumers = model.consumerIndices(of: value)
        guard consumers.count == 1 else { return nil }
        let node = model.nodes[consumers[0]]
        guard case .batchNorm = node.op, !candidateNames.contains(node.name), node.outputs.count == 1 else { return nil }
        return node.outputs[0]
    }
}
