@testable import BNConvCore
@testable import BNConvModel
import Foundation

/// A fold done by hand on a Model, the way a fold pass edits it (BN node removed, consumers
/// rewired, producer weights replaced and a bias appended), so the writer tests do not depend on
/// the real pass. Conv (`hwio`) and Dense (`io`) producers only: output channels on the last axis.
enum KerasHandFold {
    /// Folds every BN whose input comes only from a linear conv or dense; returns the folded BN names.
    @discardableResult
    static func foldAll(_ model: inout Model) -> [String] {
        var folded: [String] = []
        var index = 0
        while index < model.nodes.count {
            let bn = model.nodes[index]
            guard case .batchNorm(let attributes) = bn.op, let p = model.producerIndex(of: bn.inputs[0]),
                  model.consumerIndices(of: bn.inputs[0]).count == 1, !model.outputs.contains(bn.inputs[0]),
                  fold(bn, attributes, into: &model.nodes[p]) else {
                index += 1
                continue
            }
            let x = bn.inputs[0], y = bn.outputs[0]
            model.nodes.remove(at: index)
            for i in model.nodes.indices { model.nodes[i].inputs = model.nodes[i].inputs.map { $0 == y ? x : $0 } }
            model.outputs = model.outputs.map { $0 == y ? x : $0 }
            model.values[y] = nil
            folded.append(bn.name)
        }
        return folded
    }

    private static func fold(_ bn: Node, _ a: BatchNorm, into node: inout Node) -> Bool {
        switch node.op {
        case .conv(let c) where c.activation.isLinear && c.groups == 1: break
        case .dense(let d) where d.activation.isLinear: break
        default: return false
        }
        guard let kernel = node.weight(.kernel), kernel.layout == .hwio || kernel.layout == .io,
              let mean = bn.weight(.movingMean)?.tensor.doubles(), let variance = bn.weight(.movingVariance)?.tensor.doubles(),
              kernel.tensor.shape.last == mean.count else { return false }
        let channels = mean.count
        let gamma = a.scale ? bn.weight(.gamma)!.tensor.doubles() : Array(repeating: 1, count: channels)
        let beta = a.center ? bn.weight(.beta)!.tensor.doubles() : Array(repeating: 0, count: channels)
        let s = (0..<channels).map { gamma[$0] / (variance[$0] + a.epsilon).squareRoot() }
        var w = kernel.tensor.doubles()
        for i in w.indices { w[i] *= s[i % channels] }
        var newKernel = kernel
        newKernel.tensor = Tensor(shape: kernel.tensor.shape, doubles: w, dtype: kernel.tensor.dtype)
        newKernel.isModified = true
        node.setWeight(newKernel)
        let old = node.weight(.bias)
        let b = old?.tensor.doubles() ?? Array(repeating: 0, count: channels)
        var bias = old ?? Weight(role: .bias, tensor: Tensor(shape: [channels], doubles: b, dtype: kernel.tensor.dtype), storageKey: "")
        bias.tensor = Tensor(shape: [channels], doubles: (0..<channels).map { (b[$0] - mean[$0]) * s[$0] + beta[$0] },
                             dtype: old?.tensor.dtype ?? kernel.tensor.dtype)
        bias.isModified = true
        node.setWeight(bias)
        switch node.op {
        case .conv(var c): c.useBias = true; node.op = .conv(c)
        case .dense(var d): d.useBias = true; node.op = .dense(d)
        default: break
        }
        return true
    }
}
