import BNConvCore
import BNConvModel
import BNConvInterop

/// Keras `Normalization`: `(x - mean) / max(sqrt(variance), 1e-7)`, the mean and variance holding one
/// value per position of the kept `axis` dimensions (Keras 3 `keras/src/layers/preprocessing/normalization.py`,
/// tf_keras likewise; `backend.epsilon()` is 1e-7).
struct NormalizationKernel: EngineKernel {
    /// The kept axes (batch included; may be negative).
    let axes: [Int]
    /// Mean per kept position.
    let mean: [Float]
    /// `1 / max(sqrt(variance), 1e-7)` per kept position.
    let inverseStd: [Float]

    /// Prepares a Normalization node from its `mean` and `variance` weights.
    init(node: Node, axes: [Int]) throws {
        guard let m = node.weight(.mean) else { throw EngineError.missingWeight(node: node.name, role: .mean) }
        guard let v = node.weight(.variance) else { throw EngineError.missingWeight(node: node.name, role: .variance) }
        guard m.tensor.count == v.tensor.count else {
            throw EngineError.weightShape(node: node.name, role: .variance, expected: m.tensor.shape, got: v.tensor.shape)
        }
        self.axes = axes
        mean = m.tensor.floats()
        inverseStd = v.tensor.doubles().map { Float(1 / max($0.squareRoot(), 1e-7)) }
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let rank = x.shape.count
        let kept = Set(axes.map { Op.resolveAxis($0, rank: rank) })
        let shape = x.shape.enumerated().map { kept.contains($0.offset) ? $0.element : 1 }
        guard shape.reduce(1, *) == mean.count else {
            throw EngineError.shapeMismatch("normalization mean over axes \(axes)", expected: shape, got: [mean.count])
        }
        let y = try context.output(x.shape, reusing: 0, of: inputs)
        if y.pointer != x.pointer { y.pointer.update(from: x.pointer, count: x.count) }
        mean.withUnsafeBufferPointer { mp in
            Broadcast.combine(output: y.pointer, outShape: x.shape, input: mp.baseAddress!, inShape: shape) { o, i, n, s in
                for j in 0..<n { o[j] -= i[j * s] }
            }
        }
        inverseStd.withUnsafeBufferPointer { sp in
            Broadcast.combine(output: y.pointer, outShape: x.shape, input: sp.baseAddress!, inShape: shape) { o, i, n, s in
                for j in 0..<n { o[j] *= i[j * s] }
            }
        }
        return y
    }
}
