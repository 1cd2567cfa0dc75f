import BNConvCore
import BNConvModel
import BNConvInterop

/// The order Keras gives `model.layers` when it rebuilds a Functional model from its config:
/// tf-keras `functional._map_graph_network` / Keras 3 `function.map_graph`. A depth-first walk
/// from the outputs numbers the layers; each call node's depth is the longest path to an output;
/// layers are listed by decreasing depth, ties in walk order. Legacy `.h5` loading pairs this
/// order with `layer_names` by position, so a writer that removes layers must follow it.
enum KerasLayerOrder {
    /// The layer names of `container` in `model.layers` order (a Sequential's list order).
    static func layers(of container: KerasContainer) -> [String] {
        guard !container.isSequential else { return container.layers.map(\.name) }
        let entries = Dictionary(container.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var maxNode: [String: Int] = [:]
        for r in container.layers.flatMap({ $0.calls.flatMap { $0 } }) + container.outputs + container.inputs {
            maxNode[r.layer] = max(maxNode[r.layer] ?? 0, r.node)
        }
        struct NodeKey: Hashable { var layer: String; var call: Int }
        func key(_ r: KerasTensorRef) -> NodeKey {
            let calls = max(entries[r.layer]?.calls.count ?? 1, 1)
            let offset = max(0, (maxNode[r.layer] ?? 0) - (calls - 1))
            return NodeKey(layer: r.layer, call: max(0, r.node - offset))
        }
        func parents(_ node: NodeKey) -> [NodeKey] {
            guard let entry = entries[node.layer], node.call < entry.calls.count else { return [] }
            return entry.calls[node.call].map(key)
        }
        // _build_map: depth-first from the outputs.
        var finished = Set<NodeKey>(), inProgress = Set<NodeKey>()
        var decreasing: [NodeKey] = []
        var layerIndex: [String: Int] = [:]
        func visit(_ node: NodeKey) {
            if finished.contains(node) || inProgress.contains(node) { return }
            if layerIndex[node.layer] == nil { layerIndex[node.layer] = layerIndex.count }
            inProgress.insert(node)
            for parent in parents(node) { visit(parent) }
            finished.insert(node)
            inProgress.remove(node)
            decreasing.append(node)
        }
        for output in container.outputs { visit(key(output)) }
        // Depths, walking from the outputs back.
        var nodeDepth: [NodeKey: Int] = [:]
        var layerDepth: [String: Int] = [:]
        var layerSeen: [String] = []
        for node in decreasing.reversed() {
            let depth = max(nodeDepth[node] ?? 0, layerDepth[node.layer] ?? 0)
            if layerDepth[node.layer] == nil { layerSeen.append(node.layer) }
            layerDepth[node.layer] = depth
            nodeDepth[node] = depth
            for parent in parents(node) { nodeDepth[parent] = max(depth + 1, nodeDepth[parent] ?? 0) }
        }
        for input in container.inputs where layerDepth[input.layer] == nil {
            layerDepth[input.layer] = 0
            layerIndex[input.layer] = -1
            layerSeen.append(input.layer)
        }
        var byDepth: [Int: [String]] = [:]
        for layer in layerSeen { byDepth[layerDepth[layer]!, default: []].append(layer) }
        var out: [String] = []
        for depth in byDepth.keys.sorted(by: >) {
            let sorted = byDepth[depth]!.enumerated().sorted { a, b in
                let (x, y) = (layerIndex[a.element] ?? 0, layerIndex[b.element] ?? 0)
                return x != y ? x < y : a.offset < b.offset
            }.map(\.element)
            out += sorted
        }
        return out
    }
}
