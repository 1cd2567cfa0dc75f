/// ONNX operators of this family (see OpLibrary).
enum ReductionOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [:]
}
