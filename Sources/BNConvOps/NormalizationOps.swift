/// ONNX operators of this family (see OpLibrary).
enum NormalizationOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [:]
}
