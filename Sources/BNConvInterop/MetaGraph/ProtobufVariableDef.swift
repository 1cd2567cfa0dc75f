import CBNConvProto
import CProtobufC
import BNConvCore

/// One entry of a MetaGraphDef's `variables` collection (tensorflow/core/framework/variable.proto):
/// which op holds a variable and, for a partition, where it lies in the whole variable.
package struct ProtobufVariableDef: Sendable, Equatable {
    /// Where a partition lies in its whole variable (SaveSliceInfoDef).
    package struct Slice: Sendable, Equatable {
        /// The whole variable's name: its checkpoint key.
        package var fullName: String
        /// The whole variable's shape.
        package var fullShape: [Int64]
        /// This part's offset in each dimension.
        package var offset: [Int64]
        /// This part's shape.
        package var shape: [Int64]
    }

    /// The variable tensor (`conv1/weights:0`).
    package var variableName: String
    /// The tensor reading it (`conv1/weights/read:0`).
    package var snapshotName: String
    /// Whether it is a resource variable (VarHandleOp).
    package var isResource: Bool
    /// Its place in a partitioned variable.
    package var slice: Slice?

    /// Parses a serialized VariableDef; nil when protobuf-c refuses it.
    init?(bytes: [UInt8]) {
        guard !bytes.isEmpty, withUnsafePointer(to: tensorflow__variable_def__descriptor, { ProtobufWireCheck.firstProblem(in: bytes, descriptor: $0) }) == nil,
              let message = ProtobufMessage(bytes: bytes, unpack: { tensorflow__variable_def__unpack(nil, $0.count, $0.baseAddress) }) else { return nil }
        let v = message.root(as: Tensorflow__VariableDef.self).pointee
        variableName = ProtobufCAllocation.string(v.variable_name)
        snapshotName = ProtobufCAllocation.string(v.snapshot_name)
        isResource = v.is_resource != 0
        if let s = v.save_slice_info_def?.pointee {
            slice = Slice(fullName: ProtobufCAllocation.string(s.full_name), fullShape: ProtobufCAllocation.array(s.full_shape, s.n_full_shape),
                          offset: ProtobufCAllocation.array(s.var_offset, s.n_var_offset), shape: ProtobufCAllocation.array(s.var_shape, s.n_var_shape))
        }
    }
}
