import BNConvCore
import BNConvModel
import BNConvInterop

/// One Keras 2 inbound node (a layer call) read as tf_keras's `process_node` reads it
/// (keras-team/tf-keras `tf_keras/engine/functional.py`, `reconstruct_from_config`; written by
/// `Node.serialize` in `tf_keras/engine/node.py`; docs/formats.md, TFOpLambda calls).
///
/// The node data is the call's first argument with every tensor in it replaced by a leaf
/// `[layer, node, tensor, kwargs]`, or by `["_CONSTANT_VALUE", -1, value, kwargs]` for a constant;
/// every other argument is in `kwargs` (repeated on each leaf), where a tensor is a
/// `[layer, node, tensor]` triple and anything else a JSON constant. A layer with one tensor input
/// writes `[[leaf]]` (a list of one leaf), a `TFOpLambda` the first argument's own structure: `leaf`
/// alone, or a list of leaves (`tf.concat`).
///
/// The call's tensors, in the order tf_keras walks a node's inbound tensors (`tf.nest.flatten` of
/// the arguments: the first argument's leaves, then the keyword arguments by sorted key), are the
/// node's inputs: ``refs``; a ``Argument/tensor(_:)`` is a position in that list.
struct KerasCallArguments {
    /// Where one argument's value comes from.
    enum Argument: Equatable {
        /// The call's `k`-th tensor (an index into ``refs``).
        case tensor(Int)
        /// A constant written in the config.
        case constant(JSONValue)
        /// A structure holding tensors among other things (not read as one operand).
        case structure
    }

    /// The leaves of the first argument, in order.
    var first: [Argument]
    /// Whether the first argument is a single leaf (not a list of them).
    var firstIsLeaf: Bool
    /// The first argument as one constant when it holds no tensor: a constant leaf's value, or the
    /// structure of constant leaves with each leaf replaced by its value (tf_keras writes a list
    /// constant as one leaf, and, once the model is loaded and saved again, as a list of leaves).
    var firstConstant: JSONValue?
    /// The keyword arguments (every argument but the first), in the order written.
    var keywords: [(key: String, value: Argument)]
    /// The call's tensors: the first argument's leaves, then the keyword arguments' by sorted key.
    var refs: [KerasTensorRef]

    /// The keyword argument `key`, if given.
    subscript(key: String) -> Argument? { keywords.first { $0.key == key }?.value }

    /// Reads one inbound node of the Keras 2 dialect.
    init(_ call: JSONValue) {
        var leaves: [[JSONValue]] = []
        Self.collectLeaves(call, into: &leaves)
        firstIsLeaf = Self.isLeaf(call)
        firstConstant = Self.constantValue(call)
        refs = []
        first = []
        for leaf in leaves {
            if leaf[0].stringValue == Self.constantMarker {
                first.append(.constant(leaf[2]))
            } else if let ref = KerasTensorRef(.array(leaf)) {
                first.append(.tensor(refs.count))
                refs.append(ref)
            } else {
                first.append(.structure)
            }
        }
        // Every leaf carries the same kwargs; tf_keras keeps the last leaf's.
        let kwargs = leaves.last(where: { $0.count == 4 })?[3].objectValue ?? JSONObject()
        var byKey: [String: Argument] = [:]
        for member in kwargs.members.sorted(by: { $0.key < $1.key }) {
            let before = refs.count
            Self.collectRefs(member.value, into: &refs)
            if refs.count == before {
                byKey[member.key] = .constant(member.value)
            } else if refs.count == before + 1, KerasTensorRef(member.value) != nil {
                byKey[member.key] = .tensor(before)
            } else {
                byKey[member.key] = .structure
            }
        }
        keywords = kwargs.members.map { ($0.key, byKey[$0.key] ?? .structure) }
    }

    /// The tensors of an inbound node, in ``refs`` order.
    static func refs(inCall call: JSONValue) -> [KerasTensorRef] { KerasCallArguments(call).refs }

    /// The node data `call` with its `k`-th tensor (in ``refs`` order) replaced by `replace(k, ref)`,
    /// every other value as written. A keyword tensor is replaced in the kwargs of every leaf.
    static func replacingRefs(in call: JSONValue, _ replace: (Int, KerasTensorRef) throws -> KerasTensorRef) throws -> JSONValue {
        var leaves: [[JSONValue]] = []
        collectLeaves(call, into: &leaves)
        let leafRefs = leaves.filter { $0[0].stringValue != constantMarker && KerasTensorRef(.array($0)) != nil }.count
        var k = 0
        func walkKeywords(_ kwargs: JSONValue) throws -> JSONValue {
            guard var object = kwargs.objectValue else { return kwargs }
            // Keyword tensors are numbered by sorted key after the leaves, whichever leaf holds them.
            var index = leafRefs
            var replaced: [String: JSONValue] = [:]
            for member in object.members.sorted(by: { $0.key < $1.key }) {
                replaced[member.key] = try replacingTriples(in: member.value) { ref in
                    defer { index += 1 }
                    return try replace(index, ref)
                }
            }
            for i in object.members.indices { object.members[i].value = replaced[object.members[i].key] ?? object.members[i].value }
            return .object(object)
        }
        func walk(_ value: JSONValue) throws -> JSONValue {
            guard case .array(var items) = value else { return value }
            if isLeaf(value) {
                if items[0].stringValue != constantMarker, let ref = KerasTensorRef(value) {
                    let new = try replace(k, ref)
                    k += 1
                    items[0] = .string(new.layer)
                    items[1] = .integer(new.node)
                    items[2] = .integer(new.tensor)
                }
                if items.count == 4 { items[3] = try walkKeywords(items[3]) }
                return .array(items)
            }
            return .array(try items.map(walk))
        }
        return try walk(call)
    }

    /// Node data with every leaf replaced by its constant value; nil when a leaf is a tensor.
    private static func constantValue(_ value: JSONValue) -> JSONValue? {
        guard let items = value.arrayValue else { return nil }
        if isLeaf(value) { return items[0].stringValue == constantMarker ? items[2] : nil }
        var out: [JSONValue] = []
        for item in items {
            guard let v = constantValue(item) else { return nil }
            out.append(v)
        }
        return .array(out)
    }

    /// The marker of a constant leaf (`node._CONSTANT_VALUE`).
    static let constantMarker = "_CONSTANT_VALUE"

    /// Whether `value` is one leaf of node data (tf_keras `convert_inner_node_data`: a list of 3 or
    /// 4 items whose first is a string).
    static func isLeaf(_ value: JSONValue) -> Bool {
        guard let items = value.arrayValue, items.count == 3 || items.count == 4, items[0].stringValue != nil else { return false }
        return items.count == 3 || items[3].objectValue != nil
    }

    private static func collectLeaves(_ value: JSONValue, into leaves: inout [[JSONValue]]) {
        guard let items = value.arrayValue else { return }
        if isLeaf(value) { leaves.append(items); return }
        for item in items { collectLeaves(item, into: &leaves) }
    }

    /// The `[layer, node, tensor]` triples inside a keyword value, in `tf.nest.flatten` order.
    private static func collectRefs(_ value: JSONValue, into refs: inout [KerasTensorRef]) {
        _ = try? replacingTriples(in: value) { ref in refs.append(ref); return ref }
    }

    /// `value` with every `[layer, node, tensor]` triple inside it replaced, visited in
    /// `tf.nest.flatten` order (lists in order, objects by sorted key).
    private static func replacingTriples(in value: JSONValue, _ replace: (KerasTensorRef) throws -> KerasTensorRef) throws -> JSONValue {
        switch value {
        case .array(var items):
            if isLeaf(value), items[0].stringValue != constantMarker, let ref = KerasTensorRef(value) {
                let new = try replace(ref)
                items[0] = .string(new.layer)
                items[1] = .integer(new.node)
                items[2] = .integer(new.tensor)
                return .array(items)
            }
            return .array(try items.map { try replacingTriples(in: $0, replace) })
        case .object(var object):
            var replaced: [String: JSONValue] = [:]
            for member in object.members.sorted(by: { $0.key < $1.key }) {
                replaced[member.key] = try replacingTriples(in: member.value, replace)
            }
            for i in object.members.indices { object.members[i].value = replaced[object.members[i].key] ?? object.members[i].value }
            return .object(object)
        default:
            return value
        }
    }
}
