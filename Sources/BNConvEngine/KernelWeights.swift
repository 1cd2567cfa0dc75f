import BNConvCore
import BNConvModel
import BNConvInterop

/// The weight matrix a kernel multiplies with, as float32 in the layout it computes with.
///
/// A runner that prepares its weights (the default) converts each one once, when it is made, and
/// keeps it. A runner that streams them (``RunOptions/streamsWeights``) keeps only the model's
/// tensor and makes the matrix each time the kernel runs, letting it go afterwards: a float32
/// weight already in the kernel's layout is read where it lies (a mapping of its file, or the
/// tensor's own bytes), anything else (another dtype or layout, a folded kernel computed from its
/// file) is made in a temporary array. Memory then stays at one weight at a time above the model.
final class KernelWeights: @unchecked Sendable {
    /// The shape in the kernel's layout.
    let shape: [Int]
    /// The prepared values (a preparing runner).
    private let prepared: [Float]?
    /// The model's tensor and how it becomes the matrix (a streaming runner).
    private let tensor: Tensor
    private let plan: PreparedWeights.Plan

    /// `node`'s weight `role` in `target` layout, prepared now unless `streamed`.
    init(_ node: Node, _ role: WeightRole, as target: KernelLayout, streamed: Bool) throws {
        plan = try PreparedWeights.plan(node, role, as: target)
        tensor = node.weight(role)!.tensor
        shape = plan.shape
        prepared = streamed ? nil : try PreparedWeights.values(tensor, plan)
    }

    /// The values prepared when the kernel was made; `nil` when they are made at each use.
    var preparedValues: [Float]? { prepared }

    /// The values, kept or made now (for a kernel that transforms them once).
    func values() throws -> [Float] {
        if let prepared { return prepared }
        return try PreparedWeights.values(tensor, plan)
    }

    /// Calls `body` with the values, valid only during the call; a weight computed from its file
    /// (a folded kernel) is made in `pool`'s weight buffer.
    func withFloats<R>(_ pool: BufferPool, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        if let prepared { return try prepared.withUnsafeBufferPointer(body) }
        if tensor.dtype == .float32 && plan.permutation == nil {
            let count = tensor.count
            if let source = tensor.source, !source.lendsInPlace {
                return try pool.withWeightScratch(count) { room in
                    try tensor.load(into: UnsafeMutableRawBufferPointer(start: room, count: count * MemoryLayout<Float>.size))
                    return try body(UnsafeBufferPointer(start: room, count: count))
                }
            }
            return try tensor.withUnsafeBytes { raw in
                if let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
                    return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: count))
                }
                return try [Float](unsafeUninitializedCapacity: count) { out, done in
                    if count > 0 { UnsafeMutableRawBufferPointer(out).copyMemory(from: raw) }
                    done = count
                }.withUnsafeBufferPointer(body)
            }
        }
        return try PreparedWeights.values(tensor, plan).withUnsafeBufferPointer(body)
    }

    /// Whether a streaming runner leaves `weight` of `node` in its file: one it streams
    /// (``streams(_:_:)``) whose file can be read on any thread (``Tensor/loadsConcurrently``; a
    /// dataset lent from a mapping, not one read through the serial libhdf5), so that the runner can
    /// run beside another on another thread. The others are loaded when the runner is made.
    static func staysInFile(_ node: Node, _ weight: Weight) -> Bool {
        streams(node, weight.role) && weight.tensor.loadsConcurrently
    }

    /// Whether a streaming runner leaves `role` of `node` in its file: the large matrices of the
    /// kernels that read their weights through ``KernelWeights`` (everything else is loaded).
    static func streams(_ node: Node, _ role: WeightRole) -> Bool {
        switch node.op {
        case .conv, .dense, .convTranspose: return role == .kernel
        case .depthwiseConv(let c): return role == .kernel && c.layout == .channelsLast
        case .separableConv: return role == .pointwiseKernel || role == .depthwiseKernel
        default: return false
        }
    }
}
