import BNConvCore
import BNConvModel

/// A node's weights as the float64 reference (``Float64Reference``) reads them: exact Double values
/// (every stored float dtype widens exactly), rearranged from the file's ``KernelLayout`` into the
/// one arrangement each computation uses (docs/math.md, Folding, has the layouts). With `absolute`,
/// their absolute values (for the rounding bound, ``Float64Reference/roundingScale(_:inputs:budget:)``).
enum Float64Kernel {
    /// The values of `node`'s weight `role`, in its stored shape, or with its axes in the order
    /// `permutation` gives (numpy `transpose`); throws when it is missing or not floating point.
    /// A float32 weight is read where it lies (a deferred one from its file's mapping) and widened
    /// straight into the arrangement asked for, in one pass.
    static func values(_ node: Node, _ role: WeightRole, absolute: Bool = false, permutation: [Int]? = nil) throws
        -> (tensor: Float64Tensor, layout: KernelLayout) {
        guard let weight = node.weight(role) else { throw Float64Reference.Unsupported("\(node.name) has no \(role) weight") }
        let tensor = weight.tensor
        guard tensor.dtype.isFloatingPoint else {
            throw Float64Reference.Unsupported("\(node.name)'s \(role) is \(tensor.dtype.rawValue)")
        }
        let order = try arrangement(permutation, of: tensor, node, role)
        guard tensor.dtype == .float32 else {
            let values = try tensor.materialized().doubles()
            return (Float64Tensor(shape: tensor.shape, values: absolute ? values.map(abs) : values).permuted(order), weight.layout)
        }
        let values = try arranged(tensor, order) { v in absolute ? abs(Double(v)) : Double(v) }
        return (Float64Tensor(shape: order.map { tensor.shape[$0] }, values: values), weight.layout)
    }

    /// A per-channel vector (bias) of `count` values, or nil when the node has none.
    static func vector(_ node: Node, _ role: WeightRole, count: Int, absolute: Bool = false) throws -> [Double]? {
        guard node.weight(role) != nil else { return nil }
        let v = try values(node, role, absolute: absolute).tensor
        guard v.count == count else { throw Float64Reference.Unsupported("\(node.name)'s \(role) has \(v.count) values, not \(count)") }
        return v.values
    }

    /// Calls `body` with a convolution kernel as `(taps..., in / groups, out)` (`hwio`), from
    /// `hwio` or `oihw`.
    static func withForward<R>(_ node: Node, _ role: WeightRole, spatialRank r: Int, absolute: Bool = false,
                               _ body: (Float64KernelView) throws -> R) throws -> R {
        guard let (shape, layout) = stored(node, role), shape.count == r + 2 else { throw unexpected(node, role) }
        switch layout {
        case .hwio: return try withArranged(node, role, absolute: absolute, body)
        case .oihw: return try withArranged(node, role, absolute: absolute, permutation: Array(2..<(r + 2)) + [1, 0], body)
        default: throw unexpected(node, role)
        }
    }

    /// Calls `body` with a depthwise kernel as a grouped convolution's `(taps..., 1, C * M)`, output
    /// channel `c * M + m` reading input channel `c`: from `hwcm` `(taps..., C, M)` or ONNX's `oihw`
    /// `(C * M, 1, taps...)`.
    static func withDepthwise<R>(_ node: Node, _ role: WeightRole, spatialRank r: Int, absolute: Bool = false,
                                 _ body: (Float64KernelView) throws -> R) throws -> R {
        guard let (shape, layout) = stored(node, role), shape.count == r + 2 else { throw unexpected(node, role) }
        switch layout {
        case .hwcm:
            return try withArranged(node, role, absolute: absolute, shape: Array(shape[0..<r]) + [1, shape[r] * shape[r + 1]], body)
        case .oihw where shape[1] == 1:
            return try withArranged(node, role, absolute: absolute, permutation: Array(2..<(r + 2)) + [1, 0], body)
        case .hwio where shape[r] == 1: return try withArranged(node, role, absolute: absolute, body)
        default: throw unexpected(node, role)
        }
    }

    /// Calls `body` with a transposed-convolution kernel as `(taps..., in, out / groups)`, from
    /// `hwoi` `(taps..., out / groups, in)` or `iohw` `(in, out / groups, taps...)`.
    static func withTransposed<R>(_ node: Node, _ role: WeightRole, spatialRank r: Int, absolute: Bool = false,
                                  _ body: (Float64KernelView) throws -> R) throws -> R {
        guard let (shape, layout) = stored(node, role), shape.count == r + 2 else { throw unexpected(node, role) }
        switch layout {
        case .hwoi: return try withArranged(node, role, absolute: absolute, permutation: Array(0..<r) + [r + 1, r], body)
        case .iohw: return try withArranged(node, role, absolute: absolute, permutation: Array(2..<(r + 2)) + [0, 1], body)
        default: throw unexpected(node, role)
        }
    }

    /// Calls `body` with `node`'s weight `role` as a ``Float64KernelView``: its axes in the order
    /// `permutation` gives (none: as stored), under `shape` when given (a reshape of the arranged
    /// values). A float32 weight stays float32: lent where it lies when it needs no rearranging and
    /// is aligned, else arranged into a float32 copy; other dtypes, and `absolute` values, are
    /// widened into Doubles (``values(_:_:absolute:permutation:)``).
    private static func withArranged<R>(_ node: Node, _ role: WeightRole, absolute: Bool, permutation: [Int]? = nil, shape: [Int]? = nil,
                                         _ body: (Float64KernelView) throws -> R) throws -> R {
        guard let weight = node.weight(role) else { throw Float64Reference.Unsupported("\(node.name) has no \(role) weight") }
        let tensor = weight.tensor
        guard tensor.dtype == .float32, !absolute else {
            let arranged = try values(node, role, absolute: absolute, permutation: permutation).tensor
            let view = shape ?? arranged.shape
            guard view.reduce(1, *) == arranged.count else { throw unexpected(node, role) }
            return try arranged.values.withUnsafeBufferPointer { try body(Float64KernelView(shape: view, elements: .doubles($0))) }
        }
        let order = try arrangement(permutation, of: tensor, node, role)
        let view = shape ?? order.map { tensor.shape[$0] }
        guard view.reduce(1, *) == tensor.count else { throw unexpected(node, role) }
        if order == Array(tensor.shape.indices) {
            let lent = try tensor.withUnsafeBytes { raw -> R? in
                guard let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else { return nil }
                let floats = UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: tensor.count)
                return try body(Float64KernelView(shape: view, elements: .floats(floats)))
            }
            if let lent { return lent }
        }
        return try arranged(tensor, order) { $0 }.withUnsafeBufferPointer { try body(Float64KernelView(shape: view, elements: .floats($0))) }
    }

    /// `permutation` (nil: the stored order), checked to be a permutation of `tensor`'s axes.
    private static func arrangement(_ permutation: [Int]?, of tensor: Tensor, _ node: Node, _ role: WeightRole) throws -> [Int] {
        let order = permutation ?? Array(tensor.shape.indices)
        guard order.sorted() == Array(tensor.shape.indices) else {
            throw Float64Reference.Unsupported("\(node.name)'s \(role) of shape \(tensor.shape) cannot be arranged as \(order)")
        }
        return order
    }

    /// The elements of the float32 `tensor` with its axes in `order`, each through `convert`, read
    /// where they lie (a deferred tensor from its file's mapping, at any alignment) in one pass,
    /// a row of the result at a time (``Float64Tensor/forEachRow(of:permuted:_:)``).
    @inline(__always)
    private static func arranged<T>(_ tensor: Tensor, _ order: [Int], _ convert: (Float) -> T) throws -> [T] {
        try tensor.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: tensor.count) { out, done in
                // Every result element lies in exactly one row.
                Float64Tensor.forEachRow(of: tensor.shape, permuted: order) { to, from, count, stride in
                    for j in 0..<count {
                        (out.baseAddress! + to + j).initialize(to: convert(raw.loadUnaligned(fromByteOffset: (from + j * stride) * 4, as: Float.self)))
                    }
                }
                done = tensor.count
            }
        }
    }

    /// A dense kernel as `(in, out)`, from `io` or `oi`.
    static func dense(_ node: Node, _ role: WeightRole, absolute: Bool = false) throws -> Float64Tensor {
        guard let (shape, layout) = stored(node, role), shape.count == 2 else { throw unexpected(node, role) }
        switch layout {
        case .io: return try values(node, role, absolute: absolute).tensor
        case .oi: return try values(node, role, absolute: absolute, permutation: [1, 0]).tensor
        default: throw unexpected(node, role)
        }
    }

    /// The stored shape and layout of `node`'s weight `role`, when it has one (nothing is read).
    private static func stored(_ node: Node, _ role: WeightRole) -> (shape: [Int], layout: KernelLayout)? {
        node.weight(role).map { ($0.tensor.shape, $0.layout) }
    }

    private static func unexpected(_ node: Node, _ role: WeightRole) -> Float64Reference.Unsupported {
        guard let (shape, layout) = stored(node, role) else { return Float64Reference.Unsupported("\(node.name) has no \(role) weight") }
        return Float64Reference.Unsupported("\(node.name)'s \(role) in layout \(layout.rawValue) with shape \(shape)")
    }
}
