import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads the weights of a legacy Keras HDF5 weights group (`/model_weights`, or the root of a
/// `save_weights` file): `layer_names`, then each layer group's `weight_names`, each resolved as a
/// dataset path inside the layer group (docs/formats.md, Layout of a full-model file; never guessed from layer names).
struct KerasLegacyWeights {
    /// Stored variables by layer path (`conv`, `inner_block/inner_conv`).
    var variables: [String: [KerasStoredVariable]] = [:]
    /// `layer_names` in file order.
    var layerNames: [String] = []
    /// Each layer group's `weight_names` in file order.
    var weightNames: [String: [String]] = [:]
    /// Creation properties by dataset path.
    var creation: [String: HDF5DatasetCreation] = [:]
    /// Attributes of the weights group other than `layer_names` (`backend`, `keras_version`).
    var groupAttributes: [KerasNamedAttribute] = []
    /// The model's own weights in `top_level_model_weights` (Keras 2.7+), or `nil` when the group is absent.
    var topLevel: [KerasStoredVariable]?

    /// Reads `group` for the layers of `container`. With `deferring` (the user's file name and a
    /// size), datasets of that size or more become deferred
    /// tensors read from the open file when needed (their shape, dtype and size are checked now).
    /// No dataset may take more than `limits` allow.
    init(group: HDF5Group, container: KerasContainer, deferring: KerasWeightDeferral? = nil, limits: ReadLimits) throws {
        guard let names = try KerasAttributeList.read("layer_names", of: group) else {
            throw KerasConfigError(place: group.path, problem: "the weights group has no 'layer_names' attribute")
        }
        layerNames = names
        let tally = try KerasDeclaredBytes(file: group.file, limits: limits)
        for attr in try group.attributeNames() where !attr.hasPrefix("layer_names") {
            groupAttributes.append(KerasNamedAttribute(name: attr, value: try group.attribute(attr).readValue()))
        }
        if group.kind(of: "top_level_model_weights") == .group {
            let topGroup = try group.group("top_level_model_weights")
            topLevel = try KerasLegacyWeights.read(try KerasAttributeList.read("weight_names", of: topGroup) ?? [], in: topGroup,
                                                   deferring: deferring, limits: limits, tally: tally)
        }
        let entries = Dictionary(container.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in names {
            guard group.kind(of: name) == .group else {
                throw KerasConfigError(place: group.path, problem: "'layer_names' lists '\(name)', which is not a group of the file")
            }
            let layerGroup = try group.group(name)
            let listed = try KerasAttributeList.read("weight_names", of: layerGroup) ?? []
            weightNames[name] = listed
            let stored = try KerasLegacyWeights.read(listed, in: layerGroup, deferring: deferring, limits: limits, tally: tally)
            for variable in stored { creation[variable.storageKey] = variable.creation }
            guard let entry = entries[name] else {
                if !stored.isEmpty {
                    throw KerasConfigError(place: layerGroup.path, problem: "the file stores weights for layer '\(name)', which the architecture does not have")
                }
                continue
            }
            if let nested = entry.nested {
                try assign(stored, toLeavesOf: nested, path: [name], place: layerGroup.path)
            } else if !stored.isEmpty {
                variables[name] = stored
            }
        }
    }

    /// Reads the datasets a `weight_names` list names, resolved inside `group`; those of
    /// `deferring.minimumBytes` or more are deferred when `deferring` is given. No dataset may take
    /// more than `limits` allow (a deferred one is checked now and again when it is read), and
    /// each is charged to `tally` (the file's total) before it is read.
    static func read(_ listed: [String], in group: HDF5Group, deferring: KerasWeightDeferral? = nil, limits: ReadLimits,
                     tally: KerasDeclaredBytes) throws -> [KerasStoredVariable] {
        try listed.map { weightName in
            guard group.kind(of: weightName) == .dataset else {
                throw KerasConfigError(place: group.path, problem: "attribute 'weight_names' lists '\(weightName)', which does not exist")
            }
            let dataset = try group.dataset(weightName)
            let creation = try dataset.creation()
            let extent = try tally.charge(dataset, creation: creation)
            let tensor = deferring?.tensor(for: dataset, extent: extent, creation: creation, in: group.file, limits: limits)
            return KerasStoredVariable(variable: KerasStoredVariable.variableName(fromStoredName: weightName),
                                       storedName: weightName, storageKey: dataset.path,
                                       tensor: try tensor ?? dataset.readTensor(creation: creation, limits: limits), creation: creation)
        }
    }

    /// Splits a nested model's weights among its leaf layers by the layer name in each stored name
    /// (`inner_conv/kernel:0`, Keras 3 legacy `inner_block/inner_conv/kernel`): the longest leaf name
    /// that ends the stored name's scope wins.
    private mutating func assign(_ stored: [KerasStoredVariable], toLeavesOf container: KerasContainer, path: [String], place: String) throws {
        var leaves: [(name: String, key: String)] = []
        func collect(_ c: KerasContainer, _ p: [String]) {
            for layer in c.layers {
                if let nested = layer.nested { collect(nested, p + [layer.name]) } else { leaves.append((layer.name, (p + [layer.name]).joined(separator: "/"))) }
            }
        }
        collect(container, path)
        for variable in stored {
            let parts = variable.storedName.split(separator: "/").map(String.init)
            let scope = parts.dropLast().joined(separator: "/")
            let match = leaves.filter { scope == $0.name || scope.hasSuffix("/" + $0.name) }.max { $0.name.count < $1.name.count }
            guard let match else {
                throw KerasConfigError(place: place, problem: "weight '\(variable.storedName)' names no layer of the nested model '\(path.joined(separator: "/"))'")
            }
            variables[match.key, default: []].append(variable)
        }
    }
}
