import BNConvCore
import BNConvModel
import BNConvInterop

/// An attribute as read, to write it back unchanged.
struct KerasNamedAttribute: Sendable {
    /// The attribute's name.
    var name: String
    /// Its value with its HDF5 type flavour.
    var value: HDF5AttributeValue
}

/// Where a value of the model sits in a Keras config, to rewire inbound nodes when writing.
struct KerasValueRef: Sendable, Equatable {
    /// The nested-model path of the container whose config references it.
    var containerPath: [String]
    /// The reference as that container's configs write it.
    var ref: KerasTensorRef
}

/// The whole-file record of a Keras checkpoint: its config as written, root attributes, layer
/// order, archive members, so a writer can re-emit the file with only the edits a pass made.
public struct KerasModelRecord: SourceRecord {
    /// The flavour read.
    public var format: CheckpointFormat
    /// The config dialect.
    public var dialect: KerasDialect
    /// The Keras version the file names (`keras_version` attribute or metadata.json), if any.
    public var kerasVersion: String?
    /// The path read.
    public var sourcePath: String
    /// The top-level model config as parsed (`model_config`, `config.json` or the paired config).
    public var config: JSONValue?
    /// The config text exactly as stored.
    public var configText: String?
    /// The parsed architecture.
    var container: KerasContainer?
    /// Root attributes of a legacy `.h5` (`keras_version`, `backend`, `model_config`, ...).
    var rootAttributes: [KerasNamedAttribute] = []
    /// Attributes of the legacy weights group other than `layer_names`.
    var weightsGroupAttributes: [KerasNamedAttribute] = []
    /// The legacy `layer_names`, in file order.
    var layerNames: [String] = []
    /// The legacy `weight_names` of every top-level layer group, in file order.
    var weightNames: [String: [String]] = [:]
    /// Creation properties of every dataset read, by storage key.
    var creation: [String: HDF5DatasetCreation] = [:]
    /// Every value's places in the configs (one per container that references it).
    var valueRefs: [String: [KerasValueRef]] = [:]
    /// The `.keras` archive's other members (metadata.json, assets) in order, with their bytes.
    var archiveMembers: [KerasArchiveMember] = []
    /// Legacy `.h5`: the model's own weights (`top_level_model_weights`), `nil` when the group is absent.
    var topLevelWeights: [KerasStoredVariable]?
    /// Keras 3 store: the `name` attribute of every `vars` group (by group path), when written.
    var storeNames: [String: String] = [:]
    /// Keras TF-format weights: the prefix of the tensor bundle read (the weights' storage keys
    /// are its checkpoint keys), for a checkpoint written back in its place to copy from.
    var checkpointPrefix: String?
}

/// A member of a `.keras` zip.
package struct KerasArchiveMember: Sendable {
    /// The member's path in the zip.
    package var path: String
    /// Its bytes (empty for `config.json` and `model.weights.h5`, which are rebuilt).
    package var data: [UInt8]
}
