import Foundation
import BNConvCore
import BNConvModel
import BNConvEngine

/// Seeded random inputs for a model: standard normal values (Box-Muller over SplitMix64), one
/// tensor per model input, with the batch dimension set to `batch`.
public enum RandomInputs {
    /// The most values one random input may hold by default: 2^26 float32 values (256 MiB; a
    /// 224x224x3 image model up to batch 1337). A batch beyond it (`--batch 100000` of a small
    /// image model took 10 GB of activations, `--batch 2^40`) is refused before anything is made,
    /// instead of exhausting memory or trapping on the count; `--allow-large` lifts it
    /// (``ReadLimits/maxInputValues``).
    public static let maximumValues = ReadLimits.defaultMaxInputValues

    /// Inputs for `model`, deterministic for a given `seed`; throws when `batch` makes an input
    /// larger than `limit` values. A dimension the model leaves open (an image model of any size)
    /// takes its size from `like`, a set of inputs the user gave, when there is one.
    public static func make(for model: Model, batch: Int, seed: UInt64, limit: Int = maximumValues,
                            like example: [Tensor]? = nil) throws -> [Tensor] {
        var generator = SplitMix64(seed: seed)
        return try model.inputs.enumerated().map { k, name in
            let given = example.flatMap { k < $0.count ? $0[k].shape : nil }
            let shape = try concreteShape(of: model.values[name], input: name, batch: batch, like: given)
            guard let n = ElementCount.of(shape, atMost: limit) else {
                throw VerificationError.randomInputTooLarge(input: name, shape: shape, limit: limit)
            }
            var values = [Float](repeating: 0, count: n)
            var i = 0
            while i < n {
                let (a, b) = generator.normalPair()
                values[i] = Float(a)
                if i + 1 < n { values[i + 1] = Float(b) }
                i += 2
            }
            return Tensor(shape: shape, floats: values)
        }
    }

    /// The input's shape with the batch set and every other dimension known (an open one from
    /// `like`, the shape of an input the user gave, when its rank agrees).
    public static func concreteShape(of info: ValueInfo?, input: String, batch: Int, like given: [Int]? = nil) throws -> [Int] {
        guard let shape = info?.shape, !shape.isEmpty else {
            if let given, !given.isEmpty { return [batch] + given.dropFirst() }
            throw VerificationError.unknownInputShape(input: input, shape: info?.shape)
        }
        var out = [batch]
        for (axis, dim) in shape.enumerated().dropFirst() {
            if let d = dim, d > 0 {
                out.append(d)
            } else if let given, given.count == shape.count, given[axis] > 0 {
                out.append(given[axis])
            } else {
                throw VerificationError.unknownInputShape(input: input, shape: shape)
            }
        }
        return out
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in (0, 1].
    mutating func unit() -> Double { (Double(next() >> 11) + 1) / Double(UInt64(1) << 53) }

    /// Two independent standard normal values (Box-Muller).
    mutating func normalPair() -> (Double, Double) {
        let r = (-2 * log(unit())).squareRoot()
        let theta = 2 * Double.pi * unit()
        return (r * cos(theta), r * sin(theta))
    }
}
