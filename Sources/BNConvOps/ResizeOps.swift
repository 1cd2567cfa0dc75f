/// ONNX operators of this family (see OpLibrary).
enum ResizeOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [:]
}
