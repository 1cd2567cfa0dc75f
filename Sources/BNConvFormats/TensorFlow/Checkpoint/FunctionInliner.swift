import BNConvInterop

/// Inlines calls of a graph's functions (`StatefulPartitionedCall`, `PartitionedCall`: how a TF2
/// SavedModel's signature runs its model) into the graph: the call is replaced by the function's
/// body, its nodes renamed under the call's name, and by an `IdentityN` named as the call that
/// returns the body's outputs, so references to the call's outputs still hold.
///
/// In a body, a node reads an argument by its name and another body node's output as
/// "node:output_arg:index" (tensorflow/core/framework/function.proto); those become the call's
/// inputs and flat "prefix/node:k" references (``OpOutputArguments``). Control inputs are dropped
/// (a frozen inference graph orders no side effects). A body's own calls stay calls, inlined in
/// turn when the freezer reaches them.
struct FunctionInliner {
    /// The ops that call a function named by their `f` attribute.
    static let callOps: Set<String> = ["StatefulPartitionedCall", "PartitionedCall"]

    /// The graph's functions.
    let library: ProtobufFunctionLibrary

    /// The function `call` calls; nil when `call` is not a call.
    func callee(of call: FreezableNode) throws -> ProtobufFunctionLibrary.Function? {
        guard Self.callOps.contains(call.op) else { return nil }
        guard case .function(let name)? = call.attribute("f") else {
            throw FreezeError("node '\(call.name)' (\(call.op)) names no function in its 'f' attribute")
        }
        guard let function = library.functions[name] else {
            throw FreezeError("node '\(call.name)' calls function '\(name)', which the graph's function library does not hold")
        }
        return function
    }

    /// The nodes replacing `call`, which calls `function`: the body's nodes, then the `IdentityN`
    /// named as the call.
    func inline(_ call: FreezableNode, _ function: ProtobufFunctionLibrary.Function) throws -> [FreezableNode] {
        let arguments = call.inputs.filter { !$0.hasPrefix("^") }
        guard arguments.count == function.inputs.count else {
            throw FreezeError("node '\(call.name)' passes \(arguments.count) inputs to function '\(function.name)', which takes \(function.inputs.count)")
        }
        var argumentValue = [String: String]()
        for (a, value) in zip(function.inputs, arguments) { argumentValue[a.name] = value }
        let prefix = call.name + "/"
        var bodyOps = [String: String]()
        for n in function.nodes { bodyOps[n.name] = n.op }
        func resolve(_ reference: String) throws -> String? {
            if reference.hasPrefix("^") { return nil }
            if let value = argumentValue[reference] { return value }
            let parts = reference.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard let op = bodyOps[parts[0]] else {
                throw FreezeError("function '\(function.name)' reads '\(reference)', which is neither an argument nor a node of its body")
            }
            let node = prefix + parts[0]
            switch parts.count {
            case 1: return node
            case 2:
                guard let k = Int(parts[1]), k >= 0 else { throw FreezeError("function '\(function.name)': bad reference '\(reference)'") }
                return TensorReference(node: node, index: k).text
            case 3:
                guard let k = Int(parts[2]), k >= 0, let flat = OpOutputArguments.flatIndex(op: op, argument: parts[1], index: k) else {
                    throw FreezeError("function '\(function.name)': cannot resolve '\(reference)' (\(op) has no output '\(parts[1])')")
                }
                return TensorReference(node: node, index: flat).text
            default:
                throw FreezeError("function '\(function.name)': bad reference '\(reference)'")
            }
        }
        var nodes = [FreezableNode]()
        nodes.reserveCapacity(function.nodes.count + 1)
        for (def, message) in zip(function.nodes, function.nodeBytes) {
            var node = FreezableNode(def, message: message)
            node.name = prefix + def.name
            node.inputs = try def.inputs.compactMap(resolve)
            nodes.append(node)
        }
        let returned = try function.outputs.map { output -> String in
            guard let body = function.returns[output.name] else {
                throw FreezeError("function '\(function.name)' returns nothing for its output '\(output.name)'")
            }
            guard let r = try resolve(body) else { throw FreezeError("function '\(function.name)': output '\(output.name)' is a control edge") }
            return r
        }
        var types = function.outputs.map(\.dtype)
        if case .list(let tout)? = call.attribute("Tout"), tout.types.count == types.count { types = tout.types }
        nodes.append(FreezableNode(name: call.name, op: "IdentityN", inputs: returned,
                                   attributes: [("T", .list(ProtobufAttrList(types: types)))]))
        return nodes
    }
}
