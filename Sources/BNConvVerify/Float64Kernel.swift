import BNConvCore
import BNConvModel

/// A node's weights as the float64 reference (``Float64Reference``) reads them: exact Double values
/// (every stored float dtype widens exactly), rearranged from the file's ``KernelLayout`` into the
/// one arrangement each computation uses (docs/math.md, Folding, has the layouts). With `absolute`,
/// their absolute values (for the rounding bound, ``Float64Reference/roundingScale(_:inputs:budget:)``).
enum Float64Kernel {
    /// The values of `node`'s weight `role`, in its stored shape; throws when it is missing or not
    /// floating point.
    static func values(_ node: Node, _ role: WeightRole, absolute: Bool = false) throws -> (tensor: Float64Tensor, layout: KernelLayout) {
        guard let weight = node.weight(role) else { throw Float64Reference.Unsupported("\(node.name) has no \(role) weight") }
        guard weight.tensor.dtype.isFloatingPoint else {
            throw Float64Reference.Unsupported("\(node.name)'s \(role) is \(weight.tensor.dtype.rawValue)")
        }
        let loaded = try weight.tensor.materialized()
        let values = loaded.doubles()
        return (Float64Tensor(shape: loaded.shape, values: absolute ? values.map(abs) : values), weight.layout)
    }

    /// A per-channel vector (bias) of `count` values, or nil when the node has none.
    static func vector(_ node: Node, _ role: WeightRole, count: Int, absolute: Bool = false) throws -> [Double]? {
        guard node.weight(role) != nil else { return nil }
        let v = try values(node, role, absolute: absolute).tensor
        guard v.count == count else { throw Float64Reference.Unsupported("\(node.name)'s \(role) has \(v.count) values, not \(count)") }
        return v.values
    }

    /// A convolution kernel as `(taps..., in / groups, out)` (`hwio`), from `hwio` or `oihw`.
    static func forward(_ node: Node, _ role: WeightRole, spatialRank r: Int, absolute: Bool = false) throws -> Float64Tensor {
        let (w, layout) = try values(node, role, absolute: absolute)
        guard w.shape.count == r + 2 else { throw unexpected(node, role, layout, w.shape) }
        switch layout {
        case .hwio: return w
        case .oihw: return w.permuted(Array(2..<(r + 2)) + [1, 0])
        default: throw unexpected(node, role, layout, w.shape)
        }
    }

    /// A depthwise kernel as a grouped convolution's `(taps..., 1, C * M)`, output channel
    /// `c * M + m` reading input channel `c`: from `hwcm` `(taps..., C, M)` or ONNX's `oihw` `(C * M, 1, taps...)`.
    static func depthwise(_ node: Node, _ role: WeightRole, spatialRank r: Int, absolute: Bool = false) throws -> Float64Tensor {
        let (w, layout) = try values(node, role, absolute: absolute)
        guard w.shape.count == r + 2 else { throw unexpected(node, role, layout, w.shape) }
        switch layout {
        case .hwcm: return try w.reshaped(Array(w.shape[0..<r]) + [1, w.shape[r] * w.shape[r + 1]])
        case .oihw where w.shape[1] == 1: return w.permuted(Array(2..<(r + 2)) + [1, 0])
        case .hwio where w.shape[r] == 1: return w
        default: throw unexpected(node, role, layout, w.shape)
        }
    }

    /// A transposed-convolution kernel as `(taps..., in, out / groups)`, from `hwoi`
    /// `(taps..., out / groups, in)` or `iohw` `(in, out / groups, taps...)`.
    static func transposed(_ node: Node, _ role: WeightRole, spatialRank r: Int, absolute: Bool = false) throws -> Float64Tensor {
        let (w, layout) = try values(node, role, absolute: absolute)
        guard w.shape.count == r + 2 else { throw unexpected(node, role, layout, w.shape) }
        switch layout {
        case .hwoi: return w.permuted(Array(0..<r) + [r + 1, r])
        case .iohw: return w.permuted(Array(2..<(r + 2)) + [0, 1])
        default: throw unexpected(node, role, layout, w.shape)
        }
    }

    /// A dense kernel as `(in, out)`, from `io` or `oi`.
    static func dense(_ node: Node, _ role: WeightRole, absolute: Bool = false) throws -> Float64Tensor {
        let (w, layout) = try values(node, role, absolute: absolute)
        guard w.shape.count == 2 else { throw unexpected(node, role, layout, w.shape) }
        switch layout {
        case .io: return w
        case .oi: return w.permuted([1, 0])
        default: throw unexpected(node, role, layout, w.shape)
        }
    }

    private static func unexpected(_ node: Node, _ role: WeightRole, _ layout: KernelLayout, _ shape: [Int]) -> Float64Reference.Unsupported {
        Float64Reference.Unsupported("\(node.name)'s \(role) in layout \(layout.rawValue) with shape \(shape)")
    }
}
