import BNConvModel
import BNConvFormats
import BNConvPasses

extension TorchStateDict {
    /// The state dict of any `model` as a safetensors file: the model is converted to channels-first
    /// first (``BoundaryLayouts``, then ``ConvertLayout``), so a Dense after a Flatten gets its rows
    /// in NCHW flatten order, as `torch.flatten` of an NCHW tensor needs.
    public static func safeTensors(of model: Model) throws -> SafeTensorsFile {
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: BoundaryLayouts.annotated(model)).model
        return try safeTensors(ofChannelsFirst: converted)
    }
}
