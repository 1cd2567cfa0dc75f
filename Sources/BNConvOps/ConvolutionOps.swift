/// ONNX operators of this family (see OpLibrary).
enum ConvolutionOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [:]
}
