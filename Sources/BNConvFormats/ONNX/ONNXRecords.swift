import BNConvCore
import BNConvModel
import BNConvInterop

/// The whole-file record of a model read from ONNX: what the file was unpacked from (the writer
/// unpacks it again and edits that tree, so every field bnconv does not model survives) and the
/// Swift copy of the graph the reader worked from (indices in node records point into it).
public struct ONNXModelRecord: SourceRecord {
    /// The `.onnx` file's bytes as read, or the file read where it lies.
    let origin: ONNXModelMessage.Origin
    /// The parsed graph the reader mapped.
    let proto: ONNXProto.Model
    /// `Constant` nodes the reader read as constants (like initializers) instead of model nodes:
    /// their graph indices by output name. The writer re-emits those still read, in place.
    let constants: [String: Int]
}

/// Where a slot of an ONNX node's `input` or `output` list comes from in a ``Node``.
enum ONNXSlot: Sendable, Equatable {
    /// The `n`-th of the Model node's inputs (for an input slot) or outputs (for an output slot).
    case value(Int)
    /// The initializer behind the Model node's weight with this role (its `storageKey`).
    case weight(WeightRole)
    /// A name re-emitted as written: an empty optional slot, an initializer bnconv does not model
    /// as a weight (a Reshape shape, Clip bounds), or a value internal to a merged pair.
    case fixed(String)
}

/// The ONNX record behind one ``Node``: the original NodeProto(s) it came from and how each of
/// their input/output slots maps onto the node's inputs, outputs and weights.
///
/// Usually one NodeProto; a `MatMul` followed by an `Add` of an initializer is two (one `.dense`).
public struct ONNXNodeRecord: SourceRecord {
    /// One original NodeProto.
    struct Part: Sendable, Equatable {
        /// Its index in the graph's `node` list.
        var index: Int
        /// Its op type (for the writer's choices).
        var opType: String
        /// One entry per `input` slot.
        var inputs: [ONNXSlot]
        /// One entry per `output` slot.
        var outputs: [ONNXSlot]
    }
    /// The NodeProtos, in graph order.
    var parts: [Part]

    /// `op` with `useBias` turned on (a fold may add a bias; that alone is expressible): the
    /// writer compares the op as read and as edited in this form.
    static func normalized(_ op: Op) -> Op {
        switch op {
        case .conv(var c): c.useBias = true; return .conv(c)
        case .convTranspose(var c): c.useBias = true; return .convTranspose(c)
        case .dense(var d): d.useBias = true; return .dense(d)
        default: return op
        }
    }
}
