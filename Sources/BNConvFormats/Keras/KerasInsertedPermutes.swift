import BNConvCore
import BNConvModel
import BNConvInterop

/// The transposes a pass inserted into a Model read from a Keras file (``ConvertLayout``'s
/// `.permute` nodes, which have no source record), planned as new Keras `Permute` layers: a name
/// unique among every layer of the file, the container they go in (the one their readers sit in),
/// and the layer they follow in the config's layer list.
struct KerasInsertedPermutes {
    /// One planned `Permute` layer.
    struct Layer {
        /// The created node.
        var node: Node
        /// Its Keras layer name.
        var name: String
        /// The nested-model path of the container it is written in.
        var containerPath: [String]
        /// The layer its input comes from in that container (`nil`: a Sequential's implicit input).
        var anchor: String?
    }

    /// The planned layers, in model order.
    let layers: [Layer]
    private let byOutput: [String: Int]
    private let byName: [String: Int]

    /// Plans a `Permute` layer for every created node; throws when one cannot be placed.
    init(created: [Node], model: Model, record: KerasModelRecord) throws {
        var names = NameAllocator()
        func collect(_ container: KerasContainer?) {
            for layer in container?.layers ?? [] {
                names.reserve(layer.name)
                collect(layer.nested)
            }
        }
        collect(record.container)
        var planned: [Layer] = []
        var outputIndex: [String: Int] = [:]
        for node in created {
            guard node.inputs.count == 1, node.outputs.count == 1 else {
                throw KerasConfigError(place: node.name, problem: "an inserted transpose must read and write one tensor")
            }
            // The container: the one every reader of the output sits in (top level for a model output).
            var paths = Set<[String]>()
            for i in model.consumerIndices(of: node.outputs[0]) {
                let consumer = model.nodes[i]
                if let r = consumer.source as? KerasLayerRecord { paths.insert(r.containerPath) }
                else if let k = outputIndex[consumer.outputs.first ?? ""] { paths.insert(planned[k].containerPath) }
            }
            if model.outputs.contains(node.outputs[0]) { paths.insert([]) }
            guard paths.count <= 1 else {
                throw KerasConfigError(place: node.name, problem: "the inserted transpose feeds layers of different nested models, which one Permute layer cannot express")
            }
            let path = paths.first ?? []
            let input = node.inputs[0]
            let anchor: String?
            if let k = outputIndex[input] {
                guard planned[k].containerPath == path else {
                    throw KerasConfigError(place: node.name, problem: "the inserted transpose reads a transpose of another nested model")
                }
                anchor = planned[k].name
            } else {
                guard let ref = record.valueRefs[input]?.first(where: { $0.containerPath == path })?.ref else {
                    throw KerasConfigError(place: node.name, problem: "the inserted transpose reads '\(input)', which has no name in the config of the container it must go in")
                }
                let inList = KerasInsertedPermutes.container(at: path, in: record.container)?.layers.contains { $0.name == ref.layer } ?? false
                anchor = inList ? ref.layer : nil
            }
            let name = names.claim("permute_" + KerasInsertedPermutes.sanitized(node.name))
            outputIndex[node.outputs[0]] = planned.count
            planned.append(Layer(node: node, name: name, containerPath: path, anchor: anchor))
        }
        layers = planned
        byOutput = outputIndex
        byName = Dictionary(planned.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The `Permute` layer that writes `value`, if one does.
    func layerName(writing value: String) -> String? { byOutput[value].map { layers[$0].name } }

    /// The container a planned layer is written in.
    func containerPath(of layer: String) -> [String]? { byName[layer].map { layers[$0].containerPath } }

    /// The planned layer named `name`.
    func layer(named name: String) -> Layer? { byName[name].map { layers[$0] } }

    /// The planned layers of container `path` that follow `anchor` (`nil`: the implicit input).
    func layers(after anchor: String?, in path: [String]) -> [Layer] {
        layers.filter { $0.containerPath == path && $0.anchor == anchor }
    }

    /// The nested container at `path` inside `root`.
    static func container(at path: [String], in root: KerasContainer?) -> KerasContainer? {
        var current = root
        for name in path { current = current?.layers.first { $0.name == name }?.nested }
        return current
    }

    /// A node name made a valid Keras layer name (letters, digits and underscores).
    static func sanitized(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }
}
