import Foundation
import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvPasses

/// The model a rewrite checks and how it is written: the passes' model itself (written by
/// ``Checkpoint/write(_:to:config:)``), or the result of a conversion with its own way of writing.
struct ConvertedOutput {
    /// The model verification runs against the reference (for an ONNX export, the exported file read back).
    var candidate: Model
    /// What the conversion made, `nil` without one.
    var conversion: RewriteResult.Conversion?
    /// Whether any activation changed layout (layer-by-layer comparison is then off: a flattened
    /// NCHW tensor has the NHWC one's shape but another element order).
    var layoutChanged = false
    /// Writes the output, given the comparison (`nil` when not verified); `nil` when
    /// ``Checkpoint/write(_:to:config:)`` of ``candidate`` does.
    var commit: ((ModelComparison?) throws -> Void)?

    /// The output of `request` for `source`, the model after the passes; `original` is the model
    /// as read (before folding), which layout boundaries and the read-back check refer to.
    static func make(_ source: Model, original: Model?, request: RewriteRequest) throws -> ConvertedOutput {
        let output = request.output
        switch request.conversion {
        case nil:
            return ConvertedOutput(candidate: source)
        case .onnx(let inputsAsNHWC):
            // What the export refuses is in the model read, so its errors name the input.
            let export = try ONNXExporter.export(source, inputsAsNHWC: inputsAsNHWC, file: request.input)
            let candidate = try ONNXReader.read(bytes: export.bytes, file: output)
            return ConvertedOutput(candidate: candidate,
                                   conversion: .init(boundary: export.boundary, notes: export.layout.notes, opset: export.opset),
                                   layoutChanged: spatialLayouts(of: export.layout.model) != spatialLayouts(of: source),
                                   commit: { _ in try AtomicFile.write(export.bytes, to: output) })
        case .safeTensors:
            let file = try TorchStateDict.safeTensors(of: source)
            let bytes = try file.serialized(file: output)
            guard try SafeTensorsFile.parse(bytes, file: output) == file else {
                throw CheckpointError(.unsupported, file: output, problem: "the state dict did not read back identically")
            }
            // The weights are those of the channels-first model: run that one.
            let converted = try ConvertLayout(target: .channelsFirst).apply(to: source)
            return ConvertedOutput(candidate: converted.model,
                                   conversion: .init(boundary: LayoutBoundary(source: original ?? source, converted: converted.model),
                                                     notes: converted.notes + ["\(file.entries.count) tensors in the state dict"]),
                                   layoutChanged: spatialLayouts(of: converted.model) != spatialLayouts(of: source),
                                   commit: { _ in try AtomicFile.write(bytes, to: output) })
        case .frozenGraph:
            guard source.format == .graphDef else {
                throw UsageError("\(output): a frozen GraphDef (.pb) is written from a TensorFlow checkpoint, SavedModel or GraphDef, not from \(source.format.displayName); export to .onnx instead")
            }
            return ConvertedOutput(candidate: source, conversion: .init(boundary: LayoutBoundary(inputs: source.inputs.map { _ in nil }, outputs: source.outputs.map { _ in nil }), notes: [], opset: nil),
                                   commit: { _ in try Checkpoint.write(source, to: output) })
        case .keras(let target):
            return try keras(source, target: target, request: request)
        case .layout(let layout, let keepIOLayout) where source.format == .onnx:
            return try onnxInterface(source, original: original, layout: layout, keepIOLayout: keepIOLayout, request: request)
        case .layout(let layout, let keepIOLayout):
            let converted = try ConvertLayout(target: layout, keepIOLayout: keepIOLayout).apply(to: source)
            return ConvertedOutput(candidate: converted.model,
                                   conversion: .init(boundary: LayoutBoundary(source: original ?? source, converted: converted.model),
                                                     notes: converted.notes),
                                   layoutChanged: spatialLayouts(of: converted.model) != spatialLayouts(of: source),
                                   commit: layoutChangeCommit(converted.model, original: original ?? source, layout: layout, request: request))
        }
    }

    /// The output of `convert --layout` of an ONNX model: its layers are channels-first by
    /// definition, so only its interface moves (``ConvertInterfaceLayout``: NHWC inputs and outputs
    /// through transposes, or those transposes removed), written in place of the original graph's
    /// nodes by the ONNX writer, staged, read back and checked like every layout change.
    static func onnxInterface(_ source: Model, original: Model?, layout: DataLayout, keepIOLayout: Bool,
                              request: RewriteRequest) throws -> ConvertedOutput {
        guard !keepIOLayout else {
            throw UsageError("\(request.input): an ONNX model's layers are channels-first whatever the layout; --layout only changes the layout of its inputs and outputs, which --keep-io-layout keeps: nothing would change")
        }
        let converted = ConvertInterfaceLayout(target: layout).apply(to: source)
        var notes = converted.notes
        if !converted.changed {
            notes.append("every spatial input and output is already \(layout == .channelsFirst ? "nchw" : "nhwc") (ONNX layers are channels-first whatever the layout)")
        }
        return ConvertedOutput(candidate: converted.model,
                               conversion: .init(boundary: LayoutBoundary(source: original ?? source, converted: converted.model), notes: notes),
                               layoutChanged: false,
                               commit: layoutChangeCommit(converted.model, original: original ?? source, layout: layout, request: request))
    }

    /// The commit of a conversion written in the input's own format: staged, read back and
    /// checked by ``LayoutChangeWrite`` before it is moved into place.
    static func layoutChangeCommit(_ converted: Model, original: Model, layout: DataLayout,
                                   request: RewriteRequest) -> (ModelComparison?) throws -> Void {
        { comparison in
            try LayoutChangeWrite(converted: converted, original: original, layout: layout,
                                  input: request.input, output: request.output, force: request.force)
                .write(comparison: comparison)
        }
    }

    /// The output of a conversion to another Keras file: the model itself (what is verified is the
    /// passes' model; the file holds its weights as they are), written by
    /// ``Checkpoint/write(_:to:as:config:)``. Refused before anything runs for a model not read
    /// from a Keras file, or in the Keras 3 dialect (tf_keras could not rebuild it), and when the
    /// architecture a TF-format checkpoint gets beside it would replace an input.
    static func keras(_ source: Model, target: KerasConversionTarget, request: RewriteRequest) throws -> ConvertedOutput {
        let output = request.output
        guard let record = source.source as? KerasModelRecord else {
            throw UsageError("\(output): \(target.displayName) is written from a Keras model (tf_keras), not from \(source.format.displayName); export to .onnx instead")
        }
        guard record.dialect == .keras2 else {
            throw UsageError("\(output): \(target.displayName) is what tf_keras (Keras 2) loads, but \(request.input) has a Keras 3 config, which tf_keras cannot rebuild; give --layout to convert within its own format, or export to .onnx")
        }
        if target == .keras2H5, output.lowercased().hasSuffix(".weights.h5") {
            throw UsageError("\(output): tf_keras loads a file named .weights.h5 as a Keras 3 weights store; name the Keras 2 HDF5 model .h5")
        }
        var notes: [String] = []
        if target == .tensorFlowCheckpoint {
            let prefix = TensorBundleNaming.prefix(of: output)
            if !record.format.isWeightsOnly || request.fold {
                // The architecture goes beside the weights: it must not replace an input.
                let config = KerasWriter.defaultConfigPath(forWeights: prefix)
                try OutputGuard.check(output: config, inputs: request.readFiles(includingModel: true))
                notes.append(request.fold ? "the folded architecture is written to \(config) if a BatchNorm folds"
                                          : "the architecture is written to \(config) (model_from_json)")
            }
            if source.format != .kerasCheckpoint || request.fold {
                notes.append("no optimizer state is written")
            }
        } else {
            notes.append("no optimizer state is written")
        }
        return ConvertedOutput(candidate: source,
                               conversion: .init(boundary: LayoutBoundary(inputs: source.inputs.map { _ in nil }, outputs: source.outputs.map { _ in nil }),
                                                 notes: notes, opset: nil),
                               commit: { _ in try Checkpoint.write(source, to: output, as: target) })
    }

    /// The activation layout of every conv, pool and pad node, by name.
    static func spatialLayouts(of model: Model) -> [String: DataLayout] {
        var out: [String: DataLayout] = [:]
        for node in model.nodes {
            switch node.op {
            case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): out[node.name] = c.layout
            case .pool(let p): out[node.name] = p.layout
            case .globalPool(let g): out[node.name] = g.layout
            case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): out[node.name] = l
            default: break
            }
        }
        return out
    }
}
