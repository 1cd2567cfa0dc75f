/// ONNX operators of this family (see OpLibrary).
enum MatrixOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [:]
}
