import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a model read from a TensorFlow checkpoint or SavedModel back as one (`recalibrate
/// model.ckpt -o fixed/model.ckpt`, `recalibrate saved_model/ -o fixed_model/`): a new tensor
/// bundle in which only the variables whose values a pass changed are new, every other tensor
/// copied as stored (byte for byte, strings, the object graph and optimizer slots included), with
/// the graph copied beside it (`PREFIX.meta`; a SavedModel's `saved_model.pb` and other files).
///
/// A checkpoint's graph (its `.meta`) is not rewritten, so only values may change there: a rewrite
/// that changed the graph (a fold) is written as a frozen GraphDef (`.pb`), or, from a SavedModel,
/// as a SavedModel of the frozen graph under the same signature.
enum TensorFlowCheckpointWriter {
    /// Writes `model` (whose source is a frozen checkpoint, ``FreezeReport``) to `path`: a
    /// checkpoint prefix, or for a SavedModel a new directory.
    static func write(_ model: Model, freezing: FreezeReport, changes: ModelChanges?, to path: String) throws {
        let fail = { (problem: String) in CheckpointError(.unsupported, file: path, problem: problem) }
        guard let changes = changes ?? ModelChanges(model) else { throw CheckpointError.noReadOutline(file: path) }
        if !BundleValueRewrite.changesValuesOnly(changes) {
            guard freezing.savedModelDirectory != nil, freezing.signature != nil else {
                throw fail("a TensorFlow checkpoint keeps its graph, so only variable values may change, but this rewrite changed the graph (a fold removes BatchNorms); write a frozen graph instead (-o NAME.pb)")
            }
            // A SavedModel whose graph changed (a fold): a SavedModel of the frozen graph.
            try writeFrozenSavedModel(model, freezing: freezing, to: path)
            return
        }
        let bundle = try TensorBundle(prefix: freezing.checkpointPrefix)
        let items: [TensorBundleItem]
        do {
            items = try BundleValueRewrite.items(model, changes: changes, bundle: bundle) { freezing.variableKeys[$0.storageKey] }
        } catch let mismatch as BundleValueRewrite.Mismatch {
            throw fail(mismatch.reason)
        }
        if let directory = freezing.savedModelDirectory {
            try writeSavedModel(from: directory, items: items, to: path)
        } else {
            let prefix = TensorBundleNaming.prefix(of: path)
            try TensorBundleWriter.write(prefix: prefix, items: items)
            try AtomicFile.copy(from: freezing.graphFile, to: prefix + ".meta")
        }
    }

    /// A SavedModel directory at `path` holding the model's frozen graph under `freezing`'s
    /// signature (same keys, same input placeholders, the frozen outputs), tags `serve`, no
    /// variables: what TensorFlow and TF Serving load as a TF1 SavedModel.
    private static func writeFrozenSavedModel(_ model: Model, freezing: FreezeReport, to path: String) throws {
        let graph = try GraphDefWriter.serialize(model, file: path)
        func tensor(_ key: String, _ name: String) throws -> ProtobufSavedModelBuilder.Tensor {
            let ref = name.contains(":") ? name : name + ":0"
            let value = ref.hasSuffix(":0") ? String(ref.dropLast(2)) : ref
            guard let info = model.values[value] else {
                throw CheckpointError(.unsupported, file: path, problem: "the signature's tensor '\(key)' (\(name)) is no longer in the graph")
            }
            return .init(key: key, name: ref, dtype: TensorFlowDataType.value(info.dtype ?? .float32),
                         shape: info.shape.map { $0.map { Int64($0 ?? -1) } })
        }
        let inputs = try freezing.signatureInputs.sorted { $0.key < $1.key }.map { try tensor($0.key, $0.value) }
        let outputs = try freezing.signatureOutputs.sorted { $0.key < $1.key }.map { try tensor($0.key, $0.value) }
        let bytes = ProtobufSavedModelBuilder.build(graph: graph, tags: ["serve"], signature: freezing.signature ?? "serving_default",
                                                    inputs: inputs, outputs: outputs)
        try writeDirectory(at: path) { staging in
            try AtomicFile.write(bytes, to: staging.appendingPathComponent("saved_model.pb").path)
            try FileManager.default.createDirectory(at: staging.appendingPathComponent("variables"), withIntermediateDirectories: true)
        }
    }

    /// A new directory at `path`, filled by `fill` in a staging directory beside it and renamed into
    /// place; nothing is left behind on error.
    private static func writeDirectory(at path: String, _ fill: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path)
        if fm.fileExists(atPath: path) {
            throw CheckpointError(.unsupported, file: path, problem: "already exists; a SavedModel is written as a new directory")
        }
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).bnconv-\(getpid())")
        try? fm.removeItem(at: staging)
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            try fill(staging)
            try fm.moveItem(at: staging, to: target)
        } catch {
            try? fm.removeItem(at: staging)
            if let e = error as? CheckpointError { throw e }
            throw CheckpointError(.writeFailed, file: path, problem: "\(error.localizedDescription)")
        }
    }

    /// A SavedModel directory at `path`: every file of `directory` but its variables copied, the
    /// variables written from `items`; built beside `path` and renamed into place.
    private static func writeSavedModel(from directory: String, items: [TensorBundleItem], to path: String) throws {
        let fm = FileManager.default
        try writeDirectory(at: path) { staging in
            let source = URL(fileURLWithPath: directory)
            for name in try fm.contentsOfDirectory(atPath: directory) where name != "variables" {
                try fm.copyItem(at: source.appendingPathComponent(name), to: staging.appendingPathComponent(name))
            }
            let variables = staging.appendingPathComponent("variables")
            try fm.createDirectory(at: variables, withIntermediateDirectories: true)
            try TensorBundleWriter.write(prefix: variables.appendingPathComponent("variables").path, items: items)
        }
    }
}
