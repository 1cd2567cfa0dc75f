import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads a TensorFlow tensor-bundle checkpoint with its MetaGraphDef, or a SavedModel directory,
/// into a ``Model``: the graph is frozen for inference (`GraphFreezer`: variables made constants
/// from the checkpoint, only what the outputs need, TF2 functions inlined) and the frozen GraphDef
/// read by ``GraphDefReader``, so everything a `.pb` supports (inspect, fold, verify, convert)
/// works, and writing the model writes a frozen GraphDef.
public enum TensorFlowCheckpointReader {
    /// Reads the checkpoint or SavedModel at `location` as `options.tensorFlow` says.
    public static func read(_ location: TensorFlowCheckpointLocation, options: ReadOptions = ReadOptions()) throws -> Model {
        switch location {
        case .checkpoint(let prefix): return try readCheckpoint(prefix: prefix, options: options)
        case .savedModel(let directory): return try readSavedModel(directory: directory, options: options)
        }
    }

    /// The model of the MetaGraphDef `bytes` frozen with every variable zero (its `dtype` and
    /// `shape` attributes; no checkpoint is read): the reading and freezing of a graph on its own,
    /// for the fuzz driver. `file` names it in errors.
    package static func readMetaGraph(bytes: [UInt8], file: String, options: ReadOptions = ReadOptions()) throws -> Model {
        let meta = try bytes.withUnsafeBytes { try ProtobufMetaGraph.parse($0, file: file) }
        return try withFreezer(of: meta, graphFile: file, file: file, options: options) { freezer in
            let outputs = options.tensorFlow.outputs?.compactMap { TensorReference($0) } ?? freezer.plausibleOutputs().map { TensorReference(node: $0) }
            guard !outputs.isEmpty else { throw FreezeError("no output") }
            var declared = [String: (dtype: ProtobufAttrValue?, shape: ProtobufAttrValue?)]()
            for name in freezer.nodeNames {
                guard let n = freezer.node(name), GraphFreezer.variableOps.contains(n.op) else { continue }
                declared[name] = (n.attribute("dtype"), n.attribute("shape"))
            }
            let frozen = try freezer.freeze(outputs: outputs.map { GraphFreezer.Output(tensor: $0, name: nil) },
                                            assumeInference: options.tensorFlow.assumeInference) { node, _, _ in
                guard let n = declared[node], case .type(let dtype)? = n.dtype, let d = TensorFlowDataType.dtype(dtype),
                      case .shape(let dims?)? = n.shape else {
                    throw FreezeError("variable '\(node)' has no dtype and shape to make zeros of")
                }
                guard let count = ElementCount.of(dims.map { Int(clamping: $0) }) else {
                    throw FreezeError("variable '\(node)' declares the shape \(dims), which has no element count")
                }
                if let refusal = options.limits.refusal(count: count, elementBytes: d.byteCount) { throw FreezeError(refusal) }
                return FrozenValue(dtype: dtype, byteCount: count * d.byteCount) {
                    ProtobufTensorProto(dtype: dtype, shape: dims, content: ArraySlice(repeating: 0, count: count * d.byteCount))
                }
            }
            return try GraphDefReader.read(bytes: frozen.bytes, file: file, options: options)
        }
    }

    /// Runs `body` with a freezer of `meta`'s graph (read from `graphFile`, checked against the
    /// node limit), turning a ``FreezeError`` into a ``CheckpointError`` naming `file`.
    private static func withFreezer(of meta: ProtobufMetaGraph, graphFile: String, file: String, options: ReadOptions,
                                    _ body: (inout GraphFreezer) throws -> Model) throws -> Model {
        guard !meta.graphDef.isEmpty else {
            throw CheckpointError(.malformed, file: graphFile, problem: "the MetaGraphDef holds no graph_def")
        }
        let graph = try ProtobufGraphDefFile(bytes: meta.graphDef, file: graphFile)
        if let refusal = options.limits.nodeRefusal(count: graph.nodeCount) {
            throw CheckpointError(.unsupported, file: graphFile, problem: refusal)
        }
        do {
            var freezer = try GraphFreezer(graph: graph, file: graphFile)
            return try body(&freezer)
        } catch let error as FreezeError {
            throw CheckpointError(.unsupported, file: file, problem: error.description)
        }
    }

    /// A checkpoint prefix with its `.meta` (or `options.tensorFlow.metaGraph`).
    private static func readCheckpoint(prefix: String, options: ReadOptions) throws -> Model {
        let metaPath = options.tensorFlow.metaGraph ?? prefix + ".meta"
        guard FileManager.default.fileExists(atPath: metaPath) else {
            if options.tensorFlow.metaGraph == nil, (try? TensorBundle(prefix: prefix, limits: options.limits))?.entry(TensorBundle.objectGraphKey) != nil {
                throw CheckpointError(.unsupported, file: prefix, problem:
                    "an object-based checkpoint holds values, not the model, and no \(URL(fileURLWithPath: metaPath).lastPathComponent) lies beside it: "
                    + "for Keras TF-format weights (model.save_weights) give the architecture with --config model.json (model.to_json() output)")
            }
            throw CheckpointError(.unsupported, file: prefix, problem:
                "a checkpoint holds values, not the graph: \(URL(fileURLWithPath: metaPath).lastPathComponent) was not found beside it; give the graph with --meta FILE (a MetaGraphDef written by tf.train.Saver or export_meta_graph)")
        }
        try RegularFile.require(metaPath, allowingSpecial: options.allowsSpecialFiles)
        let bytes = try FileBytes.contents(of: metaPath, limit: ProtobufWireCheck.maximumMessageBytes)
        let meta = try bytes.withUnsafeBytes { try ProtobufMetaGraph.parse($0, file: metaPath) }
        let bundle = try TensorBundle(prefix: prefix, limits: options.limits)
        let source = "checkpoint \(URL(fileURLWithPath: prefix).lastPathComponent) with the graph of \(URL(fileURLWithPath: metaPath).lastPathComponent)"
        return try freeze(meta: meta, metaFile: metaPath, bundle: bundle, file: prefix, source: source, savedModel: nil, options: options)
    }

    /// A SavedModel directory: its `serve` graph and `variables/variables` checkpoint.
    private static func readSavedModel(directory: String, options: ReadOptions) throws -> Model {
        // Paths spelled as the user spelled the directory, for messages.
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let pbPath = base + "/saved_model.pb"
        try RegularFile.require(pbPath, allowingSpecial: options.allowsSpecialFiles)
        let saved = try ProtobufSavedModel(bytes: try FileBytes.contents(of: pbPath, limit: ProtobufWireCheck.maximumMessageBytes), file: pbPath)
        let wanted = options.tensorFlow.tags ?? ["serve"]
        let meta: ProtobufMetaGraph
        if let match = saved.metaGraphs.first(where: { Set($0.tags) == Set(wanted) }) {
            meta = match
        } else if saved.metaGraphs.count == 1, options.tensorFlow.tags == nil {
            meta = saved.metaGraphs[0]
        } else {
            let sets = saved.metaGraphs.map { "[\($0.tags.joined(separator: ","))]" }.joined(separator: ", ")
            throw CheckpointError(.unsupported, file: pbPath, problem: "no graph has the tags [\(wanted.joined(separator: ","))]; the SavedModel holds \(sets) (choose with --tags)")
        }
        let prefix = base + "/variables/variables"
        // A SavedModel of a frozen graph (what `bnconv fold DIR -o NEWDIR` writes) has no variables;
        // one whose graph reads a variable is refused then, naming it.
        let bundle = FileManager.default.fileExists(atPath: prefix + ".index") ? try TensorBundle(prefix: prefix, limits: options.limits) : nil
        let kind = meta.objectGraph == nil ? "TF1" : "TF2"
        return try freeze(meta: meta, metaFile: pbPath, bundle: bundle, file: directory, source: "SavedModel (\(kind))", savedModel: directory,
                          options: options)
    }

    /// The model of `meta`'s graph frozen with `bundle`'s values.
    private static func freeze(meta: ProtobufMetaGraph, metaFile: String, bundle: TensorBundle?, file: String, source: String,
                               savedModel: String?, options: ReadOptions) throws -> Model {
        try withFreezer(of: meta, graphFile: metaFile, file: file, options: options) { freezer in
            var describedSource = source
            var signatureUsed: ProtobufSignature?
            let outputs: [GraphFreezer.Output]
            if let asked = options.tensorFlow.outputs {
                outputs = try asked.map { text in
                    guard let r = TensorReference(text) else { throw FreezeError("'\(text)' is not an output node or tensor name") }
                    return GraphFreezer.Output(tensor: r, name: nil)
                }
            } else if let signature = try signature(of: meta, options: options.tensorFlow) {
                describedSource += ", signature \(signature.key)"
                signatureUsed = signature
                outputs = try signature.outputs.map { info in
                    guard let r = TensorReference(info.name) else { throw FreezeError("signature '\(signature.key)' output '\(info.key)' names no tensor") }
                    return GraphFreezer.Output(tensor: r, name: info.key)
                }
            } else {
                let machinery = ["update_ops", "train_op", "summaries", "losses"].flatMap { meta.nodeNames($0) }
                    .compactMap { TensorReference($0)?.node }
                let candidates = freezer.plausibleOutputs(excluding: Set(machinery))
                guard candidates.count == 1 else {
                    let listed = candidates.isEmpty ? "the graph has no node that reads a placeholder and that nothing reads"
                        : "candidates: \(candidates.prefix(20).joined(separator: ", "))\(candidates.count > 20 ? ", ..." : "")"
                    throw FreezeError("cannot tell the graph's output (\(listed)); name it with --outputs NODE[,NODE...]")
                }
                outputs = [GraphFreezer.Output(tensor: TensorReference(node: candidates[0]), name: nil)]
            }
            let keys = try bundle.map { try variableKeys(meta: meta, bundle: $0, freezer: freezer, file: file) } ?? [:]
            var slices = [String: ProtobufVariableDef.Slice]()
            for v in meta.variableDefs() {
                if let slice = v.slice, let node = TensorReference(v.variableName)?.node { slices[node] = slice }
            }
            let frozen = try freezer.freeze(outputs: outputs, variableKeys: keys, slices: slices,
                                            assumeInference: options.tensorFlow.assumeInference) { node, key, slice in
                guard let bundle else {
                    throw FreezeError("the graph reads variable '\(node)', but the SavedModel has no variables (variables/variables.index is missing)")
                }
                return try constant(bundle: bundle, node: node, key: key, slice: slice)
            }
            var report = FreezeReport(source: describedSource, inputs: frozen.inputs, outputs: frozen.outputs, variableCount: frozen.variables.count,
                                      inlinedCalls: frozen.inlinedCalls, resolvedSwitches: frozen.resolvedSwitches,
                                      batchStatistics: frozen.batchStatistics.map(\.description), rewired: frozen.rewired,
                                      checkpointPrefix: bundle?.prefix ?? "", graphFile: metaFile, savedModelDirectory: savedModel,
                                      variableKeys: Dictionary(frozen.variables.map { ($0.node, $0.key) }, uniquingKeysWith: { a, _ in a }))
            if let signatureUsed {
                report.signature = signatureUsed.key
                report.signatureInputs = Dictionary(signatureUsed.inputs.map { ($0.key, $0.name) }, uniquingKeysWith: { a, _ in a })
                report.signatureOutputs = Dictionary(zip(signatureUsed.outputs.map(\.key), frozen.outputs).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
            }
            return try GraphDefReader.read(bytes: frozen.bytes, file: file, options: options, freezing: report)
        }
    }

    /// The signature whose outputs to freeze: `options.signature`, else `serving_default`, else the
    /// only one; nil when the graph has none.
    private static func signature(of meta: ProtobufMetaGraph, options: TensorFlowGraphOptions) throws -> ProtobufSignature? {
        let usable = meta.signatures.filter { !$0.outputs.isEmpty && $0.outputs.allSatisfy { !$0.name.isEmpty } }
        if let wanted = options.signature {
            guard let s = usable.first(where: { $0.key == wanted }) else {
                let keys = meta.signatures.map(\.key).filter { !$0.hasPrefix("__") }
                throw FreezeError("the graph has no signature '\(wanted)' (it has: \(keys.joined(separator: ", ")))")
            }
            return s
        }
        if let s = usable.first(where: { $0.key == "serving_default" }) { return s }
        if usable.count == 1 { return usable[0] }
        if usable.isEmpty { return nil }
        throw FreezeError("the graph has several signatures (\(usable.map(\.key).joined(separator: ", "))); choose one with --signature")
    }

    /// The checkpoint key of each variable the graph passes to a function by capture (TF2): a
    /// call's captured inputs are its last data inputs, one per `bound_inputs` object of the called
    /// function (SavedObjectGraph), whose `VARIABLE_VALUE` attribute in the checkpoint's object graph
    /// (same object numbering) names the key.
    private static func variableKeys(meta: ProtobufMetaGraph, bundle: TensorBundle, freezer: GraphFreezer, file: String) throws -> [String: String] {
        guard let objects = meta.objectGraph, let trackable = try bundle.objectGraph(file: file) else { return [:] }
        var keys = [String: String]()
        for name in freezer.nodeNames {
            guard let call = freezer.node(name), FunctionInliner.callOps.contains(call.op),
                  case .function(let f)? = call.attribute("f"), let bound = objects.boundInputs[f], !bound.isEmpty else { continue }
            let data = call.dataInputs
            guard bound.count <= data.count else { continue }
            for (input, object) in zip(data.suffix(bound.count), bound) {
                guard object >= 0, object < trackable.objects.count,
                      let key = trackable.objects[object].variableValue?.checkpointKey else { continue }
                keys[input.node] = key
            }
        }
        return keys
    }

    /// The value of variable `node` (checkpoint key `key`; for a partition, its part of the whole)
    /// for a `Const`: checked now, read when the `Const` is written.
    private static func constant(bundle: TensorBundle, node: String, key: String, slice: ProtobufVariableDef.Slice?) throws -> FrozenValue {
        guard let entry = bundle.entry(key) else {
            throw FreezeError("variable '\(node)' has no value in the checkpoint (no entry '\(key)')")
        }
        guard let dtype = TensorFlowDataType.dtype(entry.dataType) else {
            throw FreezeError("variable '\(node)' holds TensorFlow data type \(entry.dataType) (strings or another type freezing does not support)")
        }
        let count = slice.map { $0.shape.reduce(1) { $0 &* Int(clamping: $1) } } ?? entry.elementCount
        return FrozenValue(dtype: entry.dataType, byteCount: max(0, count) &* dtype.byteCount) {
            var tensor = try bundle.tensor(key)
            if let slice { tensor = try part(of: tensor, slice: slice, node: node) }
            let bytes = try tensor.withUnsafeBytes { [UInt8]($0) }
            return ProtobufTensorProto(dtype: entry.dataType, shape: tensor.shape.map(Int64.init), content: bytes[...])
        }
    }

    /// The block of `whole` a partition covers.
    private static func part(of whole: Tensor, slice: ProtobufVariableDef.Slice, node: String) throws -> Tensor {
        let rank = whole.shape.count
        guard slice.offset.count == rank, slice.shape.count == rank,
              (0..<rank).allSatisfy({ slice.offset[$0] >= 0 && slice.shape[$0] >= 0 && slice.offset[$0] + slice.shape[$0] <= Int64(whole.shape[$0]) }) else {
            throw FreezeError("partition '\(node)' (offset \(slice.offset), shape \(slice.shape)) does not lie inside '\(slice.fullName)' \(whole.shape)")
        }
        let shape = slice.shape.map(Int.init)
        let element = whole.dtype.byteCount
        var out = [UInt8](repeating: 0, count: shape.reduce(1, *) * element)
        try whole.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                TensorBlockRows.forEach(shape: whole.shape, starts: slice.offset.map(Int.init), lengths: shape) { from, to, run in
                    dst.baseAddress!.advanced(by: to * element)
                        .copyMemory(from: src.baseAddress!.advanced(by: from * element), byteCount: run * element)
                    return true
                }
            }
        }
        return try Tensor(dtype: whole.dtype, shape: shape, bytes: out)
    }
}
