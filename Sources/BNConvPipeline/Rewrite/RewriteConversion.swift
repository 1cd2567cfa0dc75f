import BNConvCore
import BNConvModel
import BNConvFormats

/// What a rewrite turns the model into, besides folding: the same format in another activation
/// layout, a new ONNX model, a PyTorch-convention state dict, a frozen GraphDef, or a Keras model
/// in another Keras file (TF-format weights, a Keras 2 `.h5`).
public enum RewriteConversion: Sendable, Equatable {
    /// The input's own format with activations in `layout`; `keepIOLayout` keeps the inputs and
    /// outputs as they were (one transpose each at the boundary).
    case layout(DataLayout, keepIOLayout: Bool)
    /// A new channels-first ONNX model; `inputsAsNHWC` keeps NHWC inputs and outputs.
    case onnx(inputsAsNHWC: Bool)
    /// A PyTorch-convention state dict in a `.safetensors` file.
    case safeTensors
    /// A frozen TensorFlow GraphDef (`.pb`): a checkpoint's or SavedModel's graph with its
    /// variables as constants.
    case frozenGraph
    /// A Keras model (tf_keras dialect) written as another Keras file: Keras TF-format weights
    /// (`w.ckpt`) or a Keras 2 full-model `.h5`.
    case keras(KerasConversionTarget)

    /// The kind of output, as the command line names it (`onnx`, `safetensors`, `same format`).
    public var targetName: String {
        switch self {
        case .layout: return "same format"
        case .onnx: return "onnx"
        case .safeTensors: return "safetensors"
        case .frozenGraph: return "frozen GraphDef"
        case .keras(let target): return target.rawValue
        }
    }

    /// What an output path asks for: `.onnx` (unless a layout is given), `.safetensors`, `.pb`
    /// (unless a layout is given: a frozen GraphDef), `.h5`/`.hdf5` (unless a layout is given: a
    /// Keras 2 HDF5 model), `.ckpt`, `.ckpt-N` or `.index` (unless a layout is given: Keras
    /// TF-format weights), else the input's own format (which then needs a layout: `nil` is
    /// returned without one).
    public static func forOutput(_ path: String, layout: DataLayout?, keepIOLayout: Bool, inputsAsNHWC: Bool) -> RewriteConversion? {
        let lower = path.lowercased()
        if lower.hasSuffix(".onnx") && layout == nil { return .onnx(inputsAsNHWC: inputsAsNHWC) }
        if lower.hasSuffix(".safetensors") { return .safeTensors }
        if lower.hasSuffix(".pb") && layout == nil { return .frozenGraph }
        if layout == nil, let target = KerasConversionTarget.forOutput(path) { return .keras(target) }
        return layout.map { .layout($0, keepIOLayout: keepIOLayout) }
    }
}
