import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a Keras 3 store (`model.weights.h5` of a `.keras`, or a `.weights.h5`) for an edited
/// Model: group names replayed from the edited layer list (so counters close up over removed
/// layers, as Keras's structural loader expects), `vars/<i>` in the node's weight order, and the
/// `name` attributes the original file had.
struct KerasStoreWriter {
    /// The edits to write.
    let edits: KerasModelEdits
    /// The rewritten architecture (removed layers gone), whose layer order names the groups.
    let container: KerasContainer

    /// Writes into `file` (new and empty). Weights still to be read or computed from a mapping
    /// (a fold without verification: folded kernels, untouched datasets lent by the input) are, when
    /// `file` has unbuffered raw data, written beside libhdf5 into the storage it reserves for
    /// them (``ConcurrentTensorWriter``), on the other cores; `whenComputed` sees their bytes and
    /// offsets in ``HDF5File/containerPath`` first. Every other weight goes through libhdf5.
    func write(to file: HDF5File, whenComputed: (@Sendable (UnsafeRawBufferPointer, Int) -> Void)? = nil) throws {
        guard let original = edits.record.container else {
            throw KerasConfigError(place: "", problem: "the model has no Keras architecture to name its store groups")
        }
        let root = try file.root()
        let sink = RawSink(file: file, whenComputed: whenComputed)
        try writeContainer(container, original: original, groupPath: "", path: [], root: root, isRoot: true, sink: sink)
        try sink.writer?.finish()
    }

    /// The sum of the sizes of the weights ``write(to:whenComputed:)`` writes (the data part of the file).
    var weightBytes: Int {
        edits.nodesByLayer.values.reduce(0) { sum, node in
            KerasLayerRecord.storedWeights(of: node).reduce(sum) { $0 + $1.tensor.count * $1.tensor.dtype.byteCount }
        }
    }

    /// Whether `tensor` is written beside libhdf5: still to be read or computed from a mapping
    /// (deferred, readable on another thread), for a contiguous unfiltered dataset whose stored
    /// bytes are exactly the tensor's.
    static func writesRaw(_ tensor: Tensor, creation: HDF5DatasetCreation) -> Bool {
        tensor.isDeferred && tensor.loadsConcurrently && creation.layout == .contiguous && creation.filters.isEmpty
            && tensor.count > 0 && tensor.dtype.isFloatingPoint
    }

    /// Where weights written beside libhdf5 go: a writer made on the first such weight.
    private final class RawSink {
        let file: HDF5File
        let whenComputed: (@Sendable (UnsafeRawBufferPointer, Int) -> Void)?
        private(set) var writer: ConcurrentTensorWriter?

        init(file: HDF5File, whenComputed: (@Sendable (UnsafeRawBufferPointer, Int) -> Void)?) {
            self.file = file
            self.whenComputed = whenComputed
        }

        /// Whether raw writes can go into the file (libhdf5 keeps no raw data back in a buffer).
        var isOpen: Bool { file.hasUnbufferedRawData }

        /// Queues `tensor` for the storage of the new `dataset`.
        func enqueue(_ tensor: Tensor, into dataset: HDF5Dataset) throws {
            if writer == nil { writer = try ConcurrentTensorWriter(path: file.containerPath, whenComputed: whenComputed) }
            writer!.enqueue(tensor, at: file.baseOffset + (try dataset.reserveContiguousStorage()))
        }
    }

    /// The store groups of a container's layers as read, by layer name (for their `name` attributes).
    private func originalGroups(_ container: KerasContainer, groupPath: String) -> [String: String] {
        let layers = container.layers.filter { !(container.isSequential && $0.className == "InputLayer") }
        let names = KerasNaming.storeNames(forClasses: layers.map(\.className))
        return Dictionary(zip(layers.map(\.name), names.map { "/\(groupPath)layers/\($0)" }), uniquingKeysWith: { a, _ in a })
    }

    private func writeContainer(_ container: KerasContainer, original: KerasContainer, groupPath: String, path: [String],
                                root: HDF5Group, isRoot: Bool, originalGroupPath: String? = nil, sink: RawSink) throws {
        let old = originalGroups(original, groupPath: originalGroupPath ?? groupPath)
        let entries = Dictionary(container.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let originals = Dictionary(original.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let kept = KerasLayerOrder.layers(of: container).compactMap { entries[$0] }.filter { layer in
            !(container.isSequential && layer.className == "InputLayer")
                && !edits.removedLayers.contains((path + [layer.name]).joined(separator: "/"))
        }
        let names = KerasNaming.storeNames(forClasses: kept.map(\.className))
        for (layer, storeName) in zip(kept, names) {
            let group = "\(groupPath)layers/\(storeName)"
            if let nested = layer.nested, let originalNested = originals[layer.name]?.nested {
                let oldNested = old[layer.name].map { String($0.dropFirst()) + "/" }
                try writeContainer(nested, original: originalNested, groupPath: group + "/", path: path + [layer.name], root: root,
                                   isRoot: false, originalGroupPath: oldNested, sink: sink)
                continue
            }
            let vars = try root.createGroup(group + "/vars")
            if let oldGroup = old[layer.name], let name = edits.record.storeNames[oldGroup + "/vars"] {
                try vars.writeStrings("name", [name], encoding: .variableUTF8, scalar: true)
            }
            guard let node = edits.nodesByLayer[(path + [layer.name]).joined(separator: "/")] else { continue }
            for (i, weight) in KerasLayerRecord.storedWeights(of: node).enumerated() {
                let creation = edits.record.creation[weight.storageKey] ?? .contiguous
                let tensor = weight.tensor
                if sink.isOpen && Self.writesRaw(tensor, creation: creation) {
                    try sink.enqueue(tensor, into: try vars.createDataset(String(i), dtype: tensor.dtype, shape: tensor.shape, creation: creation))
                } else {
                    try vars.createDataset(String(i), tensor: tensor, creation: creation)
                    // Large data goes to disk while the next weight is prepared (the final fsync is then short).
                    if tensor.count * tensor.dtype.byteCount >= KerasLegacyWriter.writebackBytes { Writeback.start(root.file.containerPath) }
                }
            }
        }
        if kept.isEmpty, !isRoot { _ = try root.openOrCreateGroup("\(groupPath)layers") }
        let vars = try root.openOrCreateGroup(groupPath.isEmpty ? "vars" : groupPath + "vars")
        if let name = edits.record.storeNames["/" + (originalGroupPath ?? groupPath) + "vars"] {
            try vars.writeStrings("name", [name], encoding: .variableUTF8, scalar: true)
        }
    }
}
