/// One op of the library, its attributes read once: computes the op's outputs from its inputs.
public protocol TensorKernel: Sendable {
    /// The outputs (in ONNX output order) for `inputs` (in ONNX input order; `nil` for an optional
    /// input left out).
    func run(_ inputs: [HostTensor?]) throws -> [HostTensor]
}

/// A kernel made of a closure.
public struct ClosureKernel: TensorKernel {
    let body: @Sendable ([HostTensor?]) throws -> [HostTensor]

    /// Wraps `body`.
    public init(_ body: @escaping @Sendable ([HostTensor?]) throws -> [HostTensor]) { self.body = body }

    /// Runs the closure.
    public func run(_ inputs: [HostTensor?]) throws -> [HostTensor] { try body(inputs) }
}

/// Makes the kernel of one op type from its attributes.
public typealias KernelBuilder = @Sendable (OpAttributes) throws -> any TensorKernel
