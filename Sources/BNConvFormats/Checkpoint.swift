import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// The one entry point that opens any checkpoint bnconv reads, and saves a ``Model`` back.
public enum Checkpoint {
    /// Reads `path` into a ``Model``, choosing the reader by extension, checked by the file's magic
    /// (`\x89HDF` HDF5, `PK` zip, else protobuf). `config` pairs an architecture (a
    /// `model.to_json()` file or a `.keras`) with a weights-only file: a Keras `.weights.h5` or
    /// `save_weights` `.h5`, or Keras TF-format weights (a checkpoint prefix such as `w.ckpt`, whose
    /// graph is otherwise its `.meta`).
    ///
    /// `deferringWeights` (a byte count) asks for weights of that size or more to stay in the file
    /// until used (deferred ``Tensor``s; the file stays open while the model holds them), so that a fold that is
    /// written without running the model never holds every weight at once. Legacy Keras `.h5`
    /// files, `.keras` archives, Keras TF-format weights, TensorFlow GraphDefs and ONNX models defer; other formats read
    /// everything as usual. The file must
    /// not be changed while the model holds deferred weights (they may be read from a memory
    /// mapping of it).
    ///
    /// `options` bound what the read may allocate (``ReadOptions``; the defaults by default).
    public static func read(_ path: String, config: String? = nil, deferringWeights: Int? = nil,
                            options: ReadOptions = ReadOptions()) throws -> Model {
        if let location = TensorFlowCheckpointLocation.resolve(path) {
            switch (location, config) {
            case (.checkpoint(let prefix), let config?):
                // Keras TF-format weights (`model.save_weights("w.ckpt")`) with their architecture.
                try RegularFile.require(config, allowingSpecial: options.allowsSpecialFiles)
                return try KerasCheckpointReader.read(prefix: prefix, configPath: config, deferringFrom: deferringWeights, options: options)
            case (.savedModel, _?):
                throw CheckpointError(.unsupported, file: path, problem: "--config applies to Keras weights; a SavedModel holds its own graph")
            default:
                // A TensorFlow checkpoint (a prefix and its files) with its .meta, or a SavedModel:
                // frozen into a GraphDef.
                return try TensorFlowCheckpointReader.read(location, options: options)
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError(.cannotOpen, file: path, problem: "no such file")
        }
        if isDirectory.boolValue {
            throw CheckpointError(.cannotOpen, file: path, problem: "is a directory, neither a SavedModel (no saved_model.pb) nor a folder with a TensorFlow `checkpoint` state file")
        }
        try RegularFile.require(path, allowingSpecial: options.allowsSpecialFiles)
        if let config { try RegularFile.require(config, allowingSpecial: options.allowsSpecialFiles) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot open the file for reading (permission denied?)")
        }
        let head = [UInt8](handle.readData(ofLength: 8))
        try? handle.close()
        switch kind(of: path, head: head) {
        case .hdf5:
            return try KerasReader.readHDF5(path, configPath: config, deferringFrom: deferringWeights, options: options)
        case .zip:
            return try KerasReader.readArchive(path, deferringFrom: deferringWeights, options: options)
        case .graphDef:
            return try GraphDefReader.read(path, deferringFrom: deferringWeights, options: options)
        case .onnx:
            return try ONNXReader.read(path, deferringFrom: deferringWeights, options: options)
        case .unknown(let why):
            throw CheckpointError(.unrecognizedFormat, file: path, problem: why)
        }
    }

    /// Writes `model` to `path` in the format and flavour it was read from, with
    /// the edits a pass made (Keras TF-format weights: a checkpoint again, or a Keras 2 `.h5` when
    /// `path` ends in `.h5`). The file is built beside the target and renamed over it on success;
    /// on error nothing is left behind. Optimizer state is not carried over. For a weights-only
    /// flavour, `config` receives the rewritten architecture (required when layers were removed).
    ///
    /// What changed is worked out once, format-neutrally (``ModelChanges``, from the outline the
    /// reader recorded), and each format's writer maps it onto its own records; everything a pass
    /// did not change is written back as it was read.
    public static func write(_ model: Model, to path: String, config: String? = nil) throws {
        let changes = ModelChanges(model)
        switch model.format {
        case .keras2H5, .keras2WeightsH5, .keras3LegacyH5, .kerasZip, .keras3WeightsH5, .kerasCheckpoint:
            try KerasWriter.write(model, changes: changes, to: path, configPath: config)
        case .graphDef:
            if let freezing = (model.source as? GraphDefSource)?.freezing, !path.lowercased().hasSuffix(".pb") {
                // A model frozen from a checkpoint or SavedModel, written back as one.
                try TensorFlowCheckpointWriter.write(model, freezing: freezing, changes: changes, to: path)
            } else {
                try GraphDefWriter.write(model, changes: changes, to: path)
            }
        case .onnx:
            try ONNXWriter.write(model, changes: changes, to: path)
        }
    }

    /// Writes `model`, read from a Keras file in the Keras 2 (tf_keras) dialect, as `target`:
    /// Keras TF-format weights at the prefix `path` (with the architecture beside it, or at
    /// `config`, unless it came unchanged from a `--config` file), or a Keras 2 full-model `.h5`.
    /// Optimizer state is not carried over, except by a TF-format checkpoint written in place of
    /// the one read when only values changed (then every other tensor is copied as stored).
    public static func write(_ model: Model, to path: String, as target: KerasConversionTarget, config: String? = nil) throws {
        let changes = ModelChanges(model)
        switch target {
        case .tensorFlowCheckpoint:
            try KerasCheckpointWriter.write(model, changes: changes, to: path, configPath: config)
        case .keras2H5:
            try KerasWriter.writeKeras2H5(model, changes: changes, to: path)
        }
    }

    /// The container a file is, from its first bytes and its name.
    enum ContainerKind: Equatable {
        case hdf5, zip, graphDef, onnx
        case unknown(String)
    }

    /// HDF5's signature.
    static let hdf5Magic: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Decides the container from the extension and the magic bytes.
    static func kind(of path: String, head: [UInt8]) -> ContainerKind {
        let lower = path.lowercased()
        let isHDF5 = head.count >= 4 && Array(head.prefix(4)) == Array(hdf5Magic.prefix(4))
        let isZip = head.count >= 2 && head[0] == 0x50 && head[1] == 0x4B
        if head.isEmpty { return .unknown("the file is empty") }
        if lower.hasSuffix(".keras") {
            return isZip ? .zip : .unknown("named .keras but not a zip archive (no 'PK' signature)")
        }
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") || lower.hasSuffix(".keras.h5") {
            return isHDF5 ? .hdf5 : .unknown("named \(lower.hasSuffix(".hdf5") ? ".hdf5" : ".h5") but not an HDF5 file (no HDF5 signature)")
        }
        if isHDF5 { return .hdf5 }
        if isZip { return .zip }
        if lower.hasSuffix(".pb") { return .graphDef }
        if lower.hasSuffix(".onnx") { return .onnx }
        // No telling extension: a ModelProto opens with field 1 as a varint (ir_version, tag 0x08),
        // a GraphDef with field 1 as a length-delimited NodeDef (tag 0x0A) (onnx.proto, graph.proto).
        if head[0] == 0x08 { return .onnx }
        if head[0] == 0x0A { return .graphDef }
        return .unknown("not a checkpoint bnconv knows (neither HDF5, a .keras zip, nor a .pb/.onnx protobuf)")
    }
}
