import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes back the constants of a `TFOpLambda` call that a pass changed (a fold seeing through a
/// per-channel `x + c` before a BatchNorm scales `c`; a layout conversion reshapes it), into the
/// config's inbound node where the reader found them (``KerasOpLambdaMapper/Site``): the weights
/// file holds no TFOpLambda values. The call is otherwise written as read; a change the config
/// cannot say (another op, a constant added or removed) is refused.
enum KerasOpLambdaConstants {
    /// `call` (the inbound node of `node`'s layer, already rewired) with `node`'s modified
    /// constants written in; `config` is the layer's config.
    static func written(into call: JSONValue, node: Node, config: JSONObject, edits: KerasModelEdits) throws -> JSONValue {
        guard let change = edits.nodeChanges[node.name], change.opChanged || !change.weights.isEmpty else { return call }
        if change.opChanged {
            throw KerasConfigError(place: node.name, problem: "a pass changed the op of this TFOpLambda layer to \(node.opName); "
                                   + "bnconv writes a TFOpLambda's function and arguments only as read")
        }
        let layer = (node.source as? KerasLayerRecord).map { ($0.containerPath + [$0.layerName]).joined(separator: "/") } ?? node.name
        let sites = Dictionary(KerasOpLambdaMapper.map(config: config, call: KerasCallArguments(call), layer: layer).constants
            .map { ($0.weight.role, $0.site) }, uniquingKeysWith: { a, _ in a })
        var out = call
        for weightChange in change.weights {
            guard weightChange.kind == .modified, let site = sites[weightChange.role], let weight = node.weight(weightChange.role) else {
                throw KerasConfigError(place: node.name, problem: "a pass \(weightChange.kind == .added ? "added" : "removed") the "
                                       + "'\(weightChange.role)' operand of this TFOpLambda layer, which its config cannot say")
            }
            out = setting(json(of: try weight.tensor.materialized()), at: site, in: out)
        }
        return out
    }

    /// `call` with the constant at `site` replaced by `value`. A whole first argument becomes one
    /// constant leaf (the form tf_keras writes first), with the kwargs its leaves carried.
    static func setting(_ value: JSONValue, at site: KerasOpLambdaMapper.Site, in call: JSONValue) -> JSONValue {
        if site == .firstArgument {
            var kwargs: JSONValue?
            func lastKwargs(_ v: JSONValue) {
                guard let items = v.arrayValue else { return }
                if KerasCallArguments.isLeaf(v) { if items.count == 4 { kwargs = items[3] }; return }
                items.forEach(lastKwargs)
            }
            lastKwargs(call)
            return .array([.string(KerasCallArguments.constantMarker), .integer(-1), value] + (kwargs.map { [$0] } ?? []))
        }
        var leaf = 0
        func walk(_ v: JSONValue) -> JSONValue {
            guard case .array(var items) = v else { return v }
            guard KerasCallArguments.isLeaf(v) else { return .array(items.map(walk)) }
            switch site {
            case .firstArgument:
                break
            case .leaf(let k):
                if leaf == k, items[0].stringValue == KerasCallArguments.constantMarker { items[2] = value }
            case .keyword(let key):
                if items.count == 4, var kwargs = items[3].objectValue, kwargs[key] != nil {
                    kwargs[key] = value
                    items[3] = .object(kwargs)
                }
            }
            leaf += 1
            return .array(items)
        }
        return walk(call)
    }

    /// A tensor as JSON: a number for a scalar, nested lists otherwise (Python's `json.dumps` of
    /// `tensor.tolist()`: floats as their shortest round-trip text, integers as integers).
    static func json(of tensor: Tensor) -> JSONValue {
        let values = tensor.doubles()
        func number(_ d: Double) -> JSONValue {
            if !tensor.dtype.isFloatingPoint, d.rounded() == d, abs(d) < 1e18 { return .integer(Int(d)) }
            if d.isNaN { return .number("NaN") }
            if d.isInfinite { return .number(d < 0 ? "-Infinity" : "Infinity") }
            return .number("\(d)")
        }
        func nest(_ axis: Int, _ offset: Int) -> JSONValue {
            guard axis < tensor.rank else { return number(values[offset]) }
            let stride = tensor.shape[(axis + 1)...].reduce(1, *)
            return .array((0..<tensor.shape[axis]).map { nest(axis + 1, offset + $0 * stride) })
        }
        return nest(0, 0)
    }
}
