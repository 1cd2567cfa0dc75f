/// ONNX operators of this family (see OpLibrary).
enum ActivationOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [:]
}
