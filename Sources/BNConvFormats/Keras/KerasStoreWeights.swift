import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads the weights of a Keras 3 store (`model.weights.h5` in a `.keras`, or a `.weights.h5`):
/// groups `layers/<snake_case class>[_n]/vars/<i>` replayed from the config's layer order
/// (docs/formats.md, The weights store). Matching is structural, as Keras's own loader does.
struct KerasStoreWeights {
    /// Stored variables by layer path.
    var variables: [String: [KerasStoredVariable]] = [:]
    /// The store group of each layer path (`/layers/conv2d`).
    var groups: [String: String] = [:]
    /// Creation properties by dataset path.
    var creation: [String: HDF5DatasetCreation] = [:]
    /// The `name` attribute of each `vars` group that has one, by group path.
    var names: [String: String] = [:]

    /// The bounds on what one dataset may allocate.
    private let limits: ReadLimits
    /// The file's declared dataset bytes so far.
    private let tally: KerasDeclaredBytes
    /// How large datasets stay in the file, if they do.
    private let deferring: KerasWeightDeferral?

    /// Reads `root` (the file's root group) for `container`, each dataset within `limits`. With
    /// `deferring`, datasets of its size or more become deferred tensors (shape, dtype and size
    /// checked now), lent from the file's mapping where they lie as stored.
    init(root: HDF5Group, container: KerasContainer, deferring: KerasWeightDeferral? = nil, limits: ReadLimits) throws {
        self.limits = limits
        self.deferring = deferring
        tally = try KerasDeclaredBytes(file: root.file, limits: limits)
        try read(container, groupPath: "", path: [], scope: [], root: root)
    }

    /// The sub-group holding a container's layers: `layers`, or tf-keras 2.13's `_layer_checkpoint_dependencies`.
    private static func layersGroupName(in root: HDF5Group, under groupPath: String) -> String {
        let alternative = groupPath + "_layer_checkpoint_dependencies"
        return !root.contains(groupPath + "layers") && root.contains(alternative) ? "_layer_checkpoint_dependencies" : "layers"
    }

    private mutating func readNameAttribute(_ varsPath: String, root: HDF5Group) throws {
        guard root.kind(of: varsPath) == .group else { return }
        if let name = try root.group(varsPath).stringAttribute("name") { names["/" + varsPath] = name }
    }

    /// `scope`: the Keras 3 variable-path prefix (layers built inside a Sequential get its name:
    /// `sequential/bn1/gamma`; a Functional's layers are built before it and get none).
    private mutating func read(_ container: KerasContainer, groupPath: String, path: [String], scope: [String], root: HDF5Group) throws {
        let scope = container.isSequential ? scope + [container.name] : scope
        let layers = container.layers.filter { !(container.isSequential && $0.className == "InputLayer") }
        let storeNames = KerasNaming.storeNames(forClasses: layers.map(\.className))
        let layersGroup = KerasStoreWeights.layersGroupName(in: root, under: groupPath)
        try readNameAttribute(groupPath + "vars", root: root)
        for (entry, storeName) in zip(layers, storeNames) {
            let layerGroup = "\(groupPath)\(layersGroup)/\(storeName)"
            let layerPath = (path + [entry.name]).joined(separator: "/")
            if let nested = entry.nested {
                try read(nested, groupPath: layerGroup + "/", path: path + [entry.name], scope: scope, root: root)
                continue
            }
            groups[layerPath] = "/" + layerGroup
            let varsPath = layerGroup + "/vars"
            try readNameAttribute(varsPath, root: root)
            guard root.kind(of: varsPath) == .group else { continue }
            let vars = try root.group(varsPath)
            let indices = try vars.memberNames().compactMap(Int.init).sorted()
            guard indices == Array(0..<indices.count) else {
                throw KerasConfigError(place: vars.path, problem: "the variables are not numbered 0..\(indices.count - 1)")
            }
            if indices.isEmpty { continue }
            let variableNames = KerasLayerMapper.variableNames(className: entry.className, config: entry.config, count: indices.count)
                ?? indices.map { "var\($0)" }
            guard variableNames.count == indices.count else {
                throw KerasConfigError(place: vars.path,
                                       problem: "the \(entry.className) layer '\(entry.name)' should store \(variableNames.count) variables (\(variableNames.joined(separator: ", "))) but the file has \(indices.count)")
            }
            var stored: [KerasStoredVariable] = []
            for (i, variable) in zip(indices, variableNames) {
                let dataset = try vars.dataset(String(i))
                let props = try dataset.creation()
                let extent = try tally.charge(dataset, creation: props)
                creation[dataset.path] = props
                let tensor = try deferring?.tensor(for: dataset, extent: extent, creation: props, in: root.file, limits: limits)
                    ?? dataset.readTensor(creation: props, limits: limits)
                stored.append(KerasStoredVariable(variable: variable, storedName: (scope + [entry.name, variable]).joined(separator: "/"), storageKey: dataset.path,
                                                  tensor: tensor, creation: props))
            }
            variables[layerPath] = stored
        }
    }
}
