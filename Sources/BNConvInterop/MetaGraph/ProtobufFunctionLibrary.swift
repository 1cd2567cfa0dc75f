import CBNConvProto
import CProtobufC
import BNConvCore

/// A GraphDef's function library (FunctionDefLibrary, tensorflow/core/framework/function.proto),
/// read on its own when a TF2 SavedModel's serving function is inlined into its graph.
package struct ProtobufFunctionLibrary: Sendable {
    /// One argument of a function's signature (OpDef.ArgDef).
    package struct Argument: Sendable, Equatable {
        /// Its name: a body node reads input `name` as "name"; output `name` is what `ret` maps.
        package var name: String
        /// Its DataType number (0 when given by an attribute).
        package var dtype: Int32
    }

    /// One function.
    package struct Function: Sendable {
        /// Its name (`__inference_serve_123`).
        package var name: String
        /// Its inputs, in call order: a call's k-th data input is argument k.
        package var inputs: [Argument]
        /// Its outputs, in order: a call's output k is `ret[outputs[k].name]`.
        package var outputs: [Argument]
        /// The body's nodes as Swift copies (inputs `node:output_arg:index` or an argument's name).
        package var nodes: [ProtobufNodeDef]
        /// The same nodes as their NodeDef messages' bytes, so an inlined copy keeps every field.
        package var nodeBytes: [[UInt8]]
        /// Output argument name -> the body tensor it returns (`conv/BiasAdd:output:0`).
        package var returns: [String: String]
    }

    /// The functions by name.
    package var functions: [String: Function]

    /// Reads the library's bytes (a GraphDef's `library` field payload); `file` names the file in errors.
    package init(bytes: [UInt8], file: String) throws {
        functions = [:]
        guard !bytes.isEmpty else { return }
        func refusal(_ why: String) -> CheckpointError {
            CheckpointError(.malformed, file: file, place: "the graph's function library", problem: why)
        }
        try bytes.withUnsafeBytes { raw in
            guard let fields = ProtobufWire.fields(in: raw, 0..<raw.count) else { throw refusal("the protobuf wire format is broken") }
            for (k, f) in fields.enumerated() where f.number == 1 {
                guard f.wireType == 2 else { throw refusal("function #\(k) is not a message") }
                let one = [UInt8](UnsafeRawBufferPointer(rebasing: raw[f.payload]))
                let function = try Self.function(one, refusal: { refusal("function #\(k): \($0)") })
                functions[function.name] = function
            }
        }
    }

    /// One FunctionDef from its bytes.
    private static func function(_ bytes: [UInt8], refusal: (String) -> CheckpointError) throws -> Function {
        let message: ProtobufMessage
        do {
            message = try bytes.withUnsafeBytes { raw in
                try withUnsafePointer(to: tensorflow__function_def__descriptor) { descriptor in
                    try ProtobufMessage.checked(raw, descriptor: descriptor, what: "FunctionDef", file: "") { tensorflow__function_def__unpack(nil, $0, $1) }
                }
            }
        } catch let error as CheckpointError {
            throw refusal(error.problem)
        }
        let f = message.root(as: Tensorflow__FunctionDef.self).pointee
        func arguments(_ p: UnsafeMutablePointer<UnsafeMutablePointer<Tensorflow__OpDef__ArgDef>?>?, _ n: Int) -> [Argument] {
            ProtobufCAllocation.messages(p, n).map { Argument(name: ProtobufCAllocation.string($0.pointee.name), dtype: Int32($0.pointee.type.rawValue)) }
        }
        let signature = f.signature?.pointee
        var returns = [String: String]()
        for entry in ProtobufCAllocation.messages(f.ret, f.n_ret) {
            returns[ProtobufCAllocation.string(entry.pointee.key)] = ProtobufCAllocation.string(entry.pointee.value)
        }
        let nodes = ProtobufCAllocation.messages(f.node_def, f.n_node_def).map { ProtobufNodeDefCodec.copy($0) }
        var nodeBytes = [[UInt8]]()
        bytes.withUnsafeBytes { raw in
            for field in ProtobufWire.fields(in: raw, 0..<raw.count) ?? [] where field.number == 3 && field.wireType == 2 {
                nodeBytes.append([UInt8](UnsafeRawBufferPointer(rebasing: raw[field.payload])))
            }
        }
        guard nodeBytes.count == nodes.count else { throw refusal("its node list could not be split") }
        return Function(name: ProtobufCAllocation.string(signature?.name),
                        inputs: signature.map { arguments($0.input_arg, $0.n_input_arg) } ?? [],
                        outputs: signature.map { arguments($0.output_arg, $0.n_output_arg) } ?? [],
                        nodes: nodes, nodeBytes: nodeBytes, returns: returns)
    }
}
