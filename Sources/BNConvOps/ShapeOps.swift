/// ONNX operators of this family (see OpLibrary).
enum ShapeOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [:]
}
