/// ONNX operators of this family (see OpLibrary).
enum PoolingOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [:]
}
