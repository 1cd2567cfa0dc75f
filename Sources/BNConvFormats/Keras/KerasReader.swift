import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads every Keras checkpoint flavour into a ``Model``: Keras 2 `.h5` (full or weights only),
/// Keras 3 legacy `.h5`, `.keras` archives (tf-keras or Keras 3), Keras 3 `.weights.h5`.
public enum KerasReader {
    /// Reads an HDF5 Keras file. Weights-only files need the architecture: `configPath` names a
    /// `model.to_json()` file or a `.keras` archive. With `deferringFrom` (a byte count), the
    /// weights of that size or more of a legacy `.h5` (Keras 2 / Keras 3 legacy, full or
    /// weights-only) stay in the file, which stays open, until they are used (``Tensor/isDeferred``);
    /// the writer then copies the untouched ones dataset to dataset.
    public static func readHDF5(_ path: String, configPath: String? = nil, deferringFrom minimumBytes: Int? = nil,
                                options: ReadOptions = ReadOptions()) throws -> Model {
        try mapErrors(file: path) {
            let file = try HDF5File.open(path)
            return try withExtendedLifetime(file) {
                try readHDF5(root: try file.root(), path: path, configPath: configPath, deferring: minimumBytes, options: options)
            }
        }
    }

    /// Reads a Keras HDF5 file held in memory (opened through HDF5's core driver, nothing touches
    /// the disk); `name` stands for the file in errors. Weights-only images need `configPath`.
    public static func readHDF5(image: [UInt8], name: String, configPath: String? = nil,
                                options: ReadOptions = ReadOptions()) throws -> Model {
        try mapErrors(file: name) {
            let file = try HDF5File.open(image: image, name: name)
            return try withExtendedLifetime(file) {
                try readHDF5(root: try file.root(), path: name, configPath: configPath, deferring: nil, options: options)
            }
        }
    }

    /// Chooses the flavour of an open HDF5 file from its root group.
    private static func readHDF5(root: HDF5Group, path: String, configPath: String?, deferring: Int?, options: ReadOptions) throws -> Model {
            if root.hasAttribute("model_config") {
                return try readLegacyModel(path: path, root: root, deferring: deferring, options: options)
            }
            if try KerasAttributeList.read("layer_names", of: root) != nil {
                let (config, text) = try loadConfig(configPath, forWeightsOf: path)
                return try readLegacy(path: path, root: root, weightsGroup: root, config: config, configText: text,
                                      format: .keras2WeightsH5, rootAttributes: [], deferring: deferring, options: options)
            }
            if root.contains("layers") || root.contains("vars") || root.contains("_layer_checkpoint_dependencies") {
                let (config, text) = try loadConfig(configPath, forWeightsOf: path)
                return try readStore(path: path, root: root, config: config, configText: text, format: .keras3WeightsH5,
                                     kerasVersion: nil, members: [], options: options)
            }
            throw CheckpointError(.unrecognizedFormat, file: path,
                                  problem: "an HDF5 file, but not a Keras checkpoint (no 'model_config', 'layer_names' or 'layers')")
    }

    /// Reads a `.keras` zip archive (config.json + model.weights.h5). A STORED `model.weights.h5`
    /// (as Keras writes it) is opened by libhdf5 where it lies in the archive, through a read-only
    /// mapping, without being copied; a deflated one is inflated first. Every member is checked
    /// against its CRC-32 before it is used. With `deferringFrom` (a byte count), the datasets of
    /// that size or more stay in the archive until used, as ``readHDF5(_:configPath:deferringFrom:options:)``
    /// leaves those of a `.h5` (lent from the mapping when the member is STORED).
    public static func readArchive(_ path: String, deferringFrom minimumBytes: Int? = nil,
                                   options: ReadOptions = ReadOptions()) throws -> Model {
        try mapErrors(file: path) {
            let archive = try KerasArchiveReader.open(path, limits: options.limits)
            guard let configMember = archive.member(named: "config.json") else {
                throw CheckpointError(.malformed, file: path, problem: "a zip archive without 'config.json', so not a .keras model")
            }
            guard let weightsMember = archive.member(named: "model.weights.h5") else {
                if archive.member(named: "model.weights.npz") != nil {
                    throw CheckpointError(.unsupported, file: path, place: "model.weights.npz", problem: "weights saved in .npz format are not supported")
                }
                throw CheckpointError(.malformed, file: path, problem: "the archive has no 'model.weights.h5'")
            }
            let text = String(decoding: archive.bytes(of: configMember), as: UTF8.self)
            let config: JSONValue
            do { config = try JSONValue.parse(text) } catch {
                throw CheckpointError(.malformed, file: path, place: "config.json", problem: "\(error)")
            }
            var version: String?
            if let meta = archive.member(named: "metadata.json") {
                version = (try? JSONValue.parse(String(decoding: archive.bytes(of: meta), as: UTF8.self)))?["keras_version"]?.stringValue
            }
            let name = path + "/model.weights.h5"
            let file: HDF5File
            var deferral = minimumBytes.map { KerasWeightDeferral(file: path, minimumBytes: $0) }
            switch weightsMember.content {
            case .inPlace(let offset, let count):
                file = try HDF5File.open(lending: UnsafeRawBufferPointer(rebasing: archive.mapping.bytes[offset..<(offset + count)]),
                                         owner: archive, name: name)
                deferral?.mapping = archive.file
                deferral?.baseOffset = offset
                deferral?.length = count
            case .extracted(let bytes):
                file = try HDF5File.open(image: bytes, name: name)
            }
            let root = try file.root()
            let kept = archive.members.map { m in
                KerasArchiveMember(path: m.path, data: m.path == "config.json" || m.path == "model.weights.h5" ? [] : archive.bytes(of: m))
            }
            let model = try readStore(path: path, root: root, config: config, configText: text, format: .kerasZip,
                                      kerasVersion: version, members: kept, deferring: deferral, options: options)
            // The metadata libhdf5 read through the mapping is parsed: its pages need not stay mapped
            // while the model is folded and written (deferred weights are lent by mappings of their own).
            archive.mapping.dropResidentPages()
            return model
        }
    }

    // MARK: Flavours

    private static func readLegacyModel(path: String, root: HDF5Group, deferring: Int?, options: ReadOptions) throws -> Model {
        guard let text = try root.stringAttribute("model_config") else {
            throw CheckpointError(.malformed, file: path, place: "/", problem: "attribute 'model_config' is empty")
        }
        let config: JSONValue
        do { config = try JSONValue.parse(text) } catch {
            throw CheckpointError(.malformed, file: path, place: "/@model_config", problem: "\(error)")
        }
        guard root.kind(of: "model_weights") == .group else {
            throw CheckpointError(.malformed, file: path, place: "/", problem: "the file has 'model_config' but no 'model_weights' group")
        }
        var attributes: [KerasNamedAttribute] = []
        for name in try root.attributeNames() {
            attributes.append(KerasNamedAttribute(name: name, value: try root.attribute(name).readValue()))
        }
        let version = try root.stringAttribute("keras_version")
        let format: CheckpointFormat = (version.flatMap { Int($0.prefix { $0 != "." }) } ?? 2) >= 3 ? .keras3LegacyH5 : .keras2H5
        return try readLegacy(path: path, root: root, weightsGroup: try root.group("model_weights"), config: config,
                              configText: text, format: format, rootAttributes: attributes, deferring: deferring, options: options)
    }

    private static func readLegacy(path: String, root: HDF5Group, weightsGroup: HDF5Group, config: JSONValue, configText: String,
                                   format: CheckpointFormat, rootAttributes: [KerasNamedAttribute], deferring: Int?,
                                   options: ReadOptions) throws -> Model {
        let container = try KerasContainer(model: config, place: "model_config")
        let weights = try KerasLegacyWeights(group: weightsGroup, container: container, deferring: deferring.map {
            KerasWeightDeferral(file: path, minimumBytes: $0, mapping: MappedFile(path: path))
        }, limits: options.limits)
        let version = try root.stringAttribute("keras_version") ?? (try weightsGroup.stringAttribute("keras_version"))
        let dialect = detectDialect(config, version: format == .keras3LegacyH5 ? "3" : nil, text: configText)
        var builder = KerasGraphBuilder(dialect: dialect, variables: weights.variables)
        let outputs = try builder.build(container)
        var record = KerasModelRecord(format: format, dialect: dialect, kerasVersion: version, sourcePath: path, config: config,
                                      configText: configText, container: container)
        record.rootAttributes = rootAttributes
        record.weightsGroupAttributes = weights.groupAttributes
        record.layerNames = weights.layerNames
        record.weightNames = weights.weightNames
        record.topLevelWeights = weights.topLevel
        record.creation = weights.creation
        record.valueRefs = builder.valueRefs
        return try finish(builder, outputs: outputs, name: container.name, format: format, record: record)
    }

    private static func readStore(path: String, root: HDF5Group, config: JSONValue, configText: String, format: CheckpointFormat,
                                  kerasVersion: String?, members: [KerasArchiveMember], deferring: KerasWeightDeferral? = nil,
                                  options: ReadOptions) throws -> Model {
        let container = try KerasContainer(model: config, place: "config")
        let weights = try KerasStoreWeights(root: root, container: container, deferring: deferring, limits: options.limits)
        let dialect = detectDialect(config, version: kerasVersion, text: configText)
        var builder = KerasGraphBuilder(dialect: dialect, variables: weights.variables, storeGroups: weights.groups)
        let outputs = try builder.build(container)
        var record = KerasModelRecord(format: format, dialect: dialect, kerasVersion: kerasVersion, sourcePath: path, config: config,
                                      configText: configText, container: container)
        record.creation = weights.creation
        record.valueRefs = builder.valueRefs
        record.archiveMembers = members
        record.storeNames = weights.names
        return try finish(builder, outputs: outputs, name: container.name, format: format, record: record)
    }

    /// The model the builder made, through the shared finish step: validated, shapes and layouts
    /// filled in (layouts derived from the layers, else Keras's default channels-last; a
    /// layout-converted file's outputs are channels-first).
    static func finish(_ builder: KerasGraphBuilder, outputs: [String], name: String, format: CheckpointFormat,
                               record: KerasModelRecord) throws -> Model {
        try ModelFinisher(layouts: .derivedElseChannelsLast).finish(
            Model(name: name, format: format, inputs: builder.inputs, outputs: outputs, nodes: builder.nodes,
                  values: builder.values, source: record),
            file: record.sourcePath)
    }

    // MARK: Helpers

    /// Keras 3 when the version says so, else when the config uses Keras 3 forms (dict inbound
    /// nodes, `batch_shape`, DTypePolicy objects).
    /// `text` is the config's JSON as read (searched instead of serializing `config` again).
    static func detectDialect(_ config: JSONValue, version: String?, text: String? = nil) -> KerasDialect {
        if let version, let major = Int(version.prefix { $0 != "." }) { return major >= 3 ? .keras3 : .keras2 }
        let utf8 = Array((text ?? config.serialized()).utf8)
        for marker in ["\"__keras_tensor__\"", "\"batch_shape\"", "\"DTypePolicy\""] where contains(utf8, Array(marker.utf8)) { return .keras3 }
        return .keras2
    }

    /// Whether `needle` occurs in `haystack` (bytes; a plain scan, no Foundation string search).
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return needle.isEmpty }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// The architecture for a weights-only file: a `model.to_json()` file, or a `.keras` archive's config.
    static func loadConfig(_ configPath: String?, forWeightsOf path: String) throws -> (JSONValue, String) {
        guard let configPath else {
            throw CheckpointError(.unsupported, file: path,
                                  problem: "a weights-only file holds no architecture; pass the model's config (model.to_json() output or a .keras file) with --config")
        }
        let text: String
        if configPath.hasSuffix(".keras") {
            let members = try KerasArchiveReader.members(of: configPath)
            guard let member = members.first(where: { $0.path == "config.json" }) else {
                throw CheckpointError(.malformed, file: configPath, problem: "the archive has no 'config.json'")
            }
            text = String(decoding: member.data, as: UTF8.self)
        } else {
            // A config is JSON text of kilobytes to a few megabytes; 1 GiB bounds a device read
            // with --allow-special.
            text = String(decoding: try FileBytes.contents(of: configPath, limit: 1 << 30), as: UTF8.self)
        }
        do {
            return (try JSONValue.parse(text), text)
        } catch {
            throw CheckpointError(.malformed, file: configPath, problem: "\(error)")
        }
    }

    /// Runs `body`, turning HDF5 and config errors into ``CheckpointError``s naming `file`.
    static func mapErrors<T>(file: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CheckpointError {
            throw error
        } catch let error as HDF5Error {
            throw error.checkpointError(file: file)
        } catch let error as KerasConfigError {
            throw CheckpointError(.malformed, file: file, place: error.place, problem: error.problem)
        } catch {
            throw CheckpointError(.malformed, file: file, problem: "\(error)")
        }
    }
}

extension HDF5Error {
    /// The same failure as a ``CheckpointError`` naming the user's file (an in-memory member's
    /// name is kept in the place).
    func checkpointError(file userFile: String) -> CheckpointError {
        var place = path
        if file != userFile, file.hasPrefix(userFile + "/") {
            place = String(file.dropFirst(userFile.count + 1)) + (path.isEmpty ? "" : ":" + path)
        }
        let kind: CheckpointError.Kind = path.isEmpty && operation.hasPrefix("open") ? .unrecognizedFormat : .malformed
        return CheckpointError(kind, file: userFile, place: place,
                               problem: "cannot \(operation)" + (message.isEmpty ? "" : " (HDF5: \(message))"))
    }
}
