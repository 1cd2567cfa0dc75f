import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvPasses
import BNConvEngine
import BNConvVerify
import BNConvCalibration

/// What `bnconv inspect` reports about a checkpoint: its format, its layers, and every BatchNorm
/// with its stored variables and what the fold planner would do with it. Codable, so `--json`
/// has a stable schema.
public struct CheckpointSummary: Codable, Equatable, Sendable {
    /// One layer (node).
    public struct Layer: Codable, Equatable, Sendable {
        /// The node name (`inner_block/inner_conv` inside a nested model).
        public var name: String
        /// The framework's class (`Conv2D`), or the op name when the file does not say.
        public var className: String
        /// Output channels, when known.
        public var outputChannels: Int?
        /// The activation layout (`nhwc`/`nchw`), when spatial.
        public var layout: String?
        /// The number of stored weights.
        public var weightCount: Int
    }

    /// One stored BatchNorm variable.
    public struct Variable: Codable, Equatable, Sendable {
        /// Its role (`gamma`, `beta`, `moving_mean`, `moving_variance`).
        public var role: String
        /// The name the file lists (`bn/gamma:0`, Keras 3 `bn/gamma`).
        public var name: String
        /// Where it is stored (the HDF5 dataset path).
        public var path: String
        /// Its shape.
        public var shape: [Int]
        /// Its dtype.
        public var dtype: String
        /// Its smallest and largest value (NaN counts as neither), when it has values.
        public var min: Double?, max: Double?
    }

    /// One warning about a BatchNorm (``BatchNormWarning``): its stable code and its message.
    public struct Warning: Codable, Equatable, Sendable {
        /// The stable identifier (`stale-moving-statistics`, `zero-variance`, ...).
        public var code: String
        /// What is wrong, with the numbers, and what to do.
        public var message: String
    }

    /// One BatchNorm, its fold decision and its warnings.
    public struct BatchNormInfo: Codable, Equatable, Sendable {
        /// The node name.
        public var name: String
        /// Epsilon.
        public var epsilon: Double
        /// Momentum.
        public var momentum: Double
        /// The channel axis as written.
        public var axis: Int
        /// Whether beta is applied.
        public var center: Bool
        /// Whether gamma is applied.
        public var scale: Bool
        /// The dtype of its variables.
        public var dtype: String
        /// Its stored variables in file order.
        public var variables: [Variable]
        /// The node it would fold into, if it folds.
        public var foldInto: String?
        /// Why it would be kept, if it is kept.
        public var reason: String?
        /// The branch of conditional control flow fixed in the file it sits in, taken or not
        /// (a TensorFlow `tf.cond` on a constant predicate; ``BranchDescription``), if any.
        public var branch: String? = nil
        /// What ``BatchNormDiagnosis`` found (empty when nothing).
        public var warnings: [Warning]
    }

    /// The format's identifier (`keras2-h5`, ...).
    public var format: String
    /// The format's human name.
    public var formatName: String
    /// The framework that wrote the file (`Keras`), when the format tells.
    public var framework: String?
    /// The framework version the file names, if any.
    public var frameworkVersion: String?
    /// The config dialect (`keras2`/`keras3` for Keras files), for formats that have several.
    public var dialect: String?
    /// The model's name.
    public var model: String
    /// The model inputs.
    public var inputs: [String]
    /// The model outputs.
    public var outputs: [String]
    /// Every node in topological order.
    public var layers: [Layer]
    /// Every BatchNorm.
    public var batchNorms: [BatchNormInfo]
    /// For a TensorFlow checkpoint or SavedModel: how it was frozen into the graph shown.
    public var frozenFrom: FreezeReport?
    /// Warnings about the graph rather than one BatchNorm node (a training graph normalizing by
    /// batch moments, code `batch-statistics`).
    public var graphWarnings: [Warning]

    /// Summarizes `model`, with one fold decision per BatchNorm (`decisions` from `planBatchNormFolds`)
    /// and its `warnings` (``BatchNormDiagnosis`` of `model` when `nil`).
    /// What only the file's format knows (the writing framework, class and stored weight names)
    /// comes from its records through ``CheckpointDescription`` and ``LayerDescription``.
    public init(model: Model, decisions: [FoldDecision], warnings: [BatchNormWarning]? = nil) {
        let description = model.source as? any CheckpointDescription
        format = model.format.rawValue
        formatName = model.format.displayName
        framework = description?.framework
        frameworkVersion = description?.frameworkVersion
        dialect = description?.configDialect
        self.model = model.name
        inputs = model.inputs
        outputs = model.outputs
        layers = model.nodes.map { node in
            let layer = node.source as? any LayerDescription
            let out = node.outputs.first.flatMap { model.values[$0] }
            return Layer(name: node.name, className: layer?.className ?? node.opName,
                         outputChannels: CheckpointSummary.outputChannels(of: node) ?? out?.channels,
                         layout: out?.layout?.rawValue, weightCount: node.weights.count)
        }
        let freezing = (model.source as? GraphDefSource)?.freezing
        frozenFrom = freezing
        if let freezing {
            formatName = freezing.savedModelDirectory == nil ? "TensorFlow checkpoint, read as a frozen graph" : "TensorFlow SavedModel, read as a frozen graph"
        }
        graphWarnings = (freezing?.batchStatistics ?? []).map {
            Warning(code: "batch-statistics", message: "\($0): as an inference graph every prediction depends on the batch; --assume-inference rewires it to the moving statistics (or give the inference graph with --meta)")
        }
        let byName = Dictionary(decisions.map { ($0.batchNorm, $0) }, uniquingKeysWith: { a, _ in a })
        let warned = Dictionary(grouping: warnings ?? BatchNormDiagnosis(model: model).warnings(), by: \.batchNorm)
        batchNorms = model.nodes.compactMap { node in
            guard case .batchNorm(let bn) = node.op else { return nil }
            let layer = node.source as? any LayerDescription
            let variables = node.weights.map { w in
                let values = (try? w.tensor.materialized().doubles())?.filter { !$0.isNaN } ?? []
                return Variable(role: w.role.rawValue, name: layer?.storedName(of: w.role) ?? w.storageKey,
                                path: freezing?.variableKeys[w.storageKey] ?? w.storageKey, shape: w.tensor.shape, dtype: w.tensor.dtype.rawValue,
                                min: values.min(), max: values.max())
            }
            let decision = byName[node.name]
            return BatchNormInfo(name: node.name, epsilon: bn.epsilon, momentum: bn.momentum, axis: bn.axis, center: bn.center,
                                 scale: bn.scale, dtype: node.weights.first?.tensor.dtype.rawValue ?? "float32",
                                 variables: variables, foldInto: decision?.target,
                                 reason: decision == nil ? "not planned" : decision?.reason,
                                 branch: (node.source as? any BranchDescription)?.branch,
                                 warnings: (warned[node.name] ?? []).map { Warning(code: $0.code.rawValue, message: $0.message) })
        }
    }

    private static func outputChannels(of node: Node) -> Int? {
        switch node.op {
        case .conv(let c), .separableConv(let c), .convTranspose(let c): return c.filters > 0 ? c.filters : nil
        case .depthwiseConv(let c): return c.filters > 0 ? c.filters : nil
        case .dense(let d): return d.units
        case .batchNorm: return node.weight(.movingMean)?.tensor.count
        default: return nil
        }
    }

    /// How many BatchNorms have at least one warning.
    public var batchNormsWithWarnings: Int { batchNorms.filter { !$0.warnings.isEmpty }.count }

    /// A plain-text report: format line, a layer table, then each BatchNorm with its variables,
    /// decision and warnings (each through `warningStyle`, for colour), and when any BatchNorm has
    /// warnings a last line counting them.
    public func text(file: String, warningStyle: (String) -> String = { $0 }) -> String {
        var lines: [String] = []
        var header = "\(file): \(formatName) [\(format)]"
        if let frameworkVersion { header += ", written by " + [framework, frameworkVersion].compactMap { $0 }.joined(separator: " ") }
        if let dialect { header += ", \(dialect) config" }
        lines.append(header)
        lines.append("model '\(model)': inputs \(inputs.joined(separator: ", ")); outputs \(outputs.joined(separator: ", "))")
        if let f = frozenFrom {
            var line = "frozen from \(f.source): \(f.variableCount) variable\(f.variableCount == 1 ? "" : "s") made constants"
            if f.inlinedCalls > 0 { line += ", \(f.inlinedCalls) function call\(f.inlinedCalls == 1 ? "" : "s") inlined" }
            if f.resolvedSwitches > 0 { line += ", \(f.resolvedSwitches) constant tf.cond switch\(f.resolvedSwitches == 1 ? "" : "es") resolved" }
            lines.append(line)
            for r in f.rewired { lines.append("  rewired to moving statistics: \(r)") }
        }
        for warning in graphWarnings {
            lines.append(warningStyle("warning [\(warning.code)]") + ": \(warning.message)")
        }
        lines.append("")
        lines.append("Layers (\(layers.count)):")
        let nameWidth = max(4, layers.map(\.name.count).max() ?? 0)
        let classWidth = max(5, layers.map(\.className.count).max() ?? 0)
        lines.append("  " + pad("name", nameWidth) + "  " + pad("class", classWidth) + "  " + pad("out ch", 6) + "  layout  weights")
        for layer in layers {
            lines.append("  " + pad(layer.name, nameWidth) + "  " + pad(layer.className, classWidth) + "  "
                         + pad(layer.outputChannels.map(String.init) ?? "-", 6) + "  " + pad(layer.layout ?? "-", 6) + "  \(layer.weightCount)")
        }
        lines.append("")
        lines.append("BatchNorms (\(batchNorms.count)):")
        for bn in batchNorms {
            lines.append("  \(bn.name): epsilon \(bn.epsilon), momentum \(bn.momentum), axis \(bn.axis), center \(bn.center), scale \(bn.scale), \(bn.dtype)")
            for v in bn.variables {
                let range = v.min.map { lo in v.max.map { hi in String(format: "  in [%.4g, %.4g]", lo, hi) } ?? "" } ?? ""
                lines.append("    \(pad(v.role, 15)) \(v.name)  at \(v.path)  \(v.shape) \(v.dtype)\(range)")
            }
            if let branch = bn.branch {
                lines.append("    branch: \(branch)")
            }
            if let target = bn.foldInto {
                lines.append("    fold: into \(target)")
            } else {
                lines.append("    fold: no, \(bn.reason ?? "no reason given")")
            }
            for warning in bn.warnings {
                lines.append("    " + warningStyle("warning [\(warning.code)]") + ": \(warning.message)")
            }
        }
        let warned = batchNormsWithWarnings + graphWarnings.count
        if warned > 0 {
            lines.append("")
            lines.append(warningStyle("\(warned) BatchNorm\(warned == 1 ? "" : "s") with warnings"))
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
