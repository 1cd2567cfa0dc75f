import BNConvCore

/// Rewrites convolution and dense weights into the channels-first conventions ONNX and PyTorch
/// share, whatever layout they were stored in (docs/math.md, Folding and Layouts).
///
/// | op | stored | result |
/// | --- | --- | --- |
/// | conv | `hwio` (spatial..., in/groups, out) | `oihw` = transpose(last, last-1, spatial...) |
/// | depthwise | `hwcm` (spatial..., in, mult) | (in*mult, 1, spatial...): output channel `i*mult + m` |
/// | transposed conv | `hwoi` (spatial..., out, in) | `iohw` (in, out, spatial...) = transpose(last, last-1, spatial...) |
/// | dense | `io` (in, out) | `oi` (out, in) on request |
///
/// Weights already in the result layout are returned unchanged. Every transform moves raw bytes,
/// so values are bit-exact in every dtype.
public enum ChannelsFirstWeights {
    /// A convolution kernel (also a SeparableConv pointwise kernel) as `oihw`.
    public static func convolution(_ weight: Weight, node: String) throws -> Tensor {
        switch weight.layout {
        case .oihw: return weight.tensor
        case .hwio: return try weight.tensor.transposed(spatialLast(weight.tensor.rank))
        default: throw unexpected(weight, node: node, want: "hwio or oihw")
        }
    }

    /// A depthwise kernel as a grouped-convolution weight (in*mult, 1, spatial...), `group = in`.
    public static func depthwise(_ weight: Weight, node: String) throws -> Tensor {
        switch weight.layout {
        case .oihw: return weight.tensor
        case .hwcm:
            let t = weight.tensor
            let r = t.rank - 2
            let moved = try t.transposed([r, r + 1] + Array(0..<r))  // (in, mult, spatial...)
            return try moved.reshaped([t.shape[r] * t.shape[r + 1], 1] + Array(t.shape[0..<r]))
        default: throw unexpected(weight, node: node, want: "hwcm or oihw")
        }
    }

    /// A transposed-convolution kernel as `iohw` (in, out, spatial...).
    public static func transposedConvolution(_ weight: Weight, node: String) throws -> Tensor {
        switch weight.layout {
        case .iohw: return weight.tensor
        case .hwoi: return try weight.tensor.transposed(spatialLast(weight.tensor.rank))
        default: throw unexpected(weight, node: node, want: "hwoi or iohw")
        }
    }

    /// A dense kernel as (out, in).
    public static func denseOutIn(_ weight: Weight, node: String) throws -> Tensor {
        switch weight.layout {
        case .oi: return weight.tensor
        case .io: return try weight.tensor.transposed([1, 0])
        default: throw unexpected(weight, node: node, want: "io or oi")
        }
    }

    /// A dense kernel as (in, out).
    public static func denseInOut(_ weight: Weight, node: String) throws -> Tensor {
        switch weight.layout {
        case .io: return weight.tensor
        case .oi: return try weight.tensor.transposed([1, 0])
        default: throw unexpected(weight, node: node, want: "io or oi")
        }
    }

    /// (last, last-1, 0, 1, ...): `hwio` -> `oihw` and `hwoi` -> `iohw` for any spatial rank.
    public static func spatialLast(_ rank: Int) -> [Int] {
        [rank - 1, rank - 2] + Array(0..<(rank - 2))
    }

    private static func unexpected(_ weight: Weight, node: String, want: String) -> ChannelsFirstWeightsError {
        ChannelsFirstWeightsError(node: node, role: weight.role.rawValue, layout: weight.layout.rawValue, expected: want)
    }
}

/// A weight whose layout does not fit its op (a reader bug or a hand-built model).
public struct ChannelsFirstWeightsError: Error, CustomStringConvertible {
    /// The node holding the weight.
    public var node: String
    /// The weight's role.
    public var role: String
    /// The layout it has.
    public var layout: String
    /// The layouts that were expected.
    public var expected: String
    /// A one-line description.
    public var description: String {
        "\(node): weight '\(role)' is laid out \(layout), expected \(expected)"
    }
}
