import BNConv
import BNConvFormats
import BNConvInterop
import Foundation

/// The readers the fuzz driver can aim at, chosen by the `BNCONV_FUZZ_TARGET` environment variable.
enum FuzzTarget: String, CaseIterable {
    /// `GraphDefReader.read(bytes:file:)`: a TensorFlow frozen GraphDef.
    case graphdef
    /// `ONNXReader.read(bytes:file:)`: an ONNX ModelProto.
    case onnx
    /// `JSONValue.parse`: the Keras config JSON parser.
    case json
    /// `NumPyFile.decode(_:file:)`: a `.npy` file.
    case npy
    /// `KerasReader.readHDF5(image:name:)`: a Keras HDF5 file opened in memory (core driver).
    case hdf5
    /// `KerasArchiveReader.members(in:file:limits:)`: a `.keras` zip (central directory, zlib).
    case zip
    /// `TensorBundle.readIndex(bytes:file:limits:)`: a tensor bundle's `.index` (the table's blocks,
    /// checksums and footer, the header and every entry, slice keys), with and without the CRCs.
    case bundleIndex
    /// `TensorFlowCheckpointReader.readMetaGraph(bytes:file:)`: a MetaGraphDef parsed and its graph
    /// frozen (outputs inferred, calls inlined, tf.cond resolved, variables as zeros).
    case metagraph
    /// `ProtobufSavedModel(bytes:file:)`: a `saved_model.pb` split into its MetaGraphDefs.
    case savedmodel

    /// The target named by `BNCONV_FUZZ_TARGET` (the driver stops with a message when unset or unknown).
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["BNCONV_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("set BNCONV_FUZZ_TARGET to one of: \(names)\n".utf8))
            exit(2)
        }
        return target
    }()

    /// The options every reader is fed with: the cap on one tensor from `BNCONV_MAX_TENSOR_BYTES`
    /// (tools/fuzz lowers it, so a reader allocating more than the fuzzer allows is a finding).
    static let options: ReadOptions = {
        guard let text = ProcessInfo.processInfo.environment["BNCONV_MAX_TENSOR_BYTES"], let value = Int(text), value > 0 else {
            return ReadOptions()
        }
        return ReadOptions(limits: ReadLimits(maxTensorBytes: value))
    }()

    /// Feeds `bytes` to the reader; every thrown error is an accepted outcome, only a crash,
    /// a sanitizer report, a timeout or an out-of-memory is a finding.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .graphdef: _ = try? GraphDefReader.read(bytes: bytes, file: "fuzz.pb", options: FuzzTarget.options)
        case .onnx: _ = try? ONNXReader.read(bytes: bytes, file: "fuzz.onnx", options: FuzzTarget.options)
        case .json: _ = try? JSONValue.parse(String(decoding: bytes, as: UTF8.self))
        case .npy: _ = try? NumPyFile.decode(Data(bytes), file: "fuzz.npy", limits: FuzzTarget.options.limits)
        case .hdf5: _ = try? KerasReader.readHDF5(image: bytes, name: "fuzz.h5", options: FuzzTarget.options)
        case .zip: _ = try? bytes.withUnsafeBytes { try KerasArchiveReader.members(in: $0, file: "fuzz.keras", limits: FuzzTarget.options.limits) }
        case .metagraph: _ = try? TensorFlowCheckpointReader.readMetaGraph(bytes: bytes, file: "fuzz.meta", options: FuzzTarget.options)
        case .savedmodel: _ = try? ProtobufSavedModel(bytes: bytes, file: "saved_model.pb")
        case .bundleIndex:
            // As read (every block's CRC checked), and with the CRCs skipped so that mutations
            // reach the blocks, entries, header and slice keys behind them.
            _ = try? TensorBundle.readIndex(bytes: bytes, file: "fuzz.index", limits: FuzzTarget.options.limits)
            _ = try? TensorBundle.readIndex(bytes: bytes, file: "fuzz.index", limits: FuzzTarget.options.limits, verifiesChecksums: false)
        }
    }
}
