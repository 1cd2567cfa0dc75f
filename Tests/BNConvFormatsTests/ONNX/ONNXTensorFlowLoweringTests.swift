import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvOps
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Every TensorFlow op of the op library (`TF.` types) exported to ONNX, read back and run on the
/// engine gives what the op library's own TensorFlow kernel gives on the model as read (those
/// kernels are held to TensorFlow's outputs by the GraphDef fixtures); the ONNX holds no `TF.` op;
/// refusals name the node and say why.
final class ONNXTensorFlowLoweringTests: XCTestCase {
    typealias M = TensorOpModels

    private let x = M.values([2, 6, 5, 4])

    /// A model of `nodes` on the image input `x` (2 x 6 x 5 x 4, float32).
    private func image(_ nodes: [Node], outputs: [String]) -> Model {
        M.model(inputs: [("x", [nil, 6, 5, 4], .float32)], nodes, outputs: outputs)
    }

    private func types(_ graph: ONNXGraphExporter.Graph) -> Set<String> { Set(graph.opCounts.keys) }

    func testEveryLoweredTypeIsATensorFlowOpOfTheLibrary() {
        let library = Set(OpLibraryTypes.tensorFlow)
        XCTAssertEqual(ONNXTensorFlowLowering.lowered, library, "every TF. op of the op library is lowered")
    }

    func testShapeSizeAndRankWithTheirOutputTypes() throws {
        let model = image([
            M.op("shape32", "TF.Shape", ["x"]), M.op("shape64", "TF.Shape", ["x"], ["out_type": .string("int64")]),
            M.op("size", "TF.Size", ["x"]), M.op("rank", "TF.Rank", ["x"]),
        ], outputs: ["shape32", "shape64", "size", "rank"])
        let graph = try M.assertExportRunsAlike(model, [x], "shape")
        XCTAssertEqual(graph.opCounts["Cast"], 3, "\(graph.opCounts)")
        XCTAssertEqual(graph.opset, 17)
        let read = try ONNXReader.read(bytes: graph.bytes, file: "s.onnx")
        XCTAssertEqual(read.values["shape32"]?.dtype, .int32)
        XCTAssertEqual(read.values["shape64"]?.dtype, .int64)
    }

    func testPackOfShapeEntriesAndOfImages() throws {
        let model = image([
            M.op("s", "TF.Shape", ["x"]),
            M.int32s("b0", [0]), M.int32s("e1", [1]), M.int32s("one", [1]),
            M.op("n", "TF.StridedSlice", ["s", "b0", "e1", "one"], ["shrink_axis_mask": .int(1)]),
            M.constant("minus", Tensor(shape: [], doubles: [-1], dtype: .int32)),
            M.op("dims", "TF.Pack", ["n", "minus"]),
            M.op("stacked", "TF.Pack", ["x", "x"], ["axis": .int(-2)]),
            M.op("one_part", "TF.Pack", ["x"], ["axis": .int(1)]),
        ], outputs: ["dims", "stacked", "one_part"])
        let graph = try M.assertExportRunsAlike(model, [x], "pack")
        XCTAssertNotNil(graph.opCounts["Unsqueeze"])
        XCTAssertNotNil(graph.opCounts["Concat"])
    }

    /// StridedSlice specs with every mask, negative begins, ends and strides, checked against the
    /// op library's StridedSlice on the same input.
    func testStridedSliceMasksMatchTheOpLibrary() throws {
        let specs: [(begin: [Int], end: [Int], strides: [Int], masks: [String: Int])] = [
            ([0, 1, 0, 0], [0, 5, 0, 1], [1, 2, -1, 1], ["begin_mask": 5, "end_mask": 5, "shrink_axis_mask": 8]),
            ([0, 1], [0, 3], [1, 1], ["ellipsis_mask": 1]),
            ([0, 0, 2, 0, -1], [0, 0, 3, 0, 0], [1, 1, 1, 1, 1], ["begin_mask": 1, "end_mask": 1, "new_axis_mask": 2, "shrink_axis_mask": 20, "ellipsis_mask": 8]),
            ([1, -4, 3], [0, -1, 0], [1, 1, -2], ["end_mask": 5]),
            ([0, 0, 1], [0, 0, -1], [1, -2, 1], ["begin_mask": 3, "end_mask": 3]),
            ([0, -1], [0, -7], [1, -1], ["begin_mask": 1, "end_mask": 1]),
            ([0, 5, -2], [2, -10, -6], [1, -2, -1], [:]),
            ([-1], [0], [1], ["shrink_axis_mask": 1]),
            ([0, 0], [0, 0], [1, 1], ["begin_mask": 3, "end_mask": 3, "new_axis_mask": 1]),
            ([0, -2, 0], [0, 100, 0], [1, 1, 1], ["begin_mask": 5, "end_mask": 5, "ellipsis_mask": 0]),
            ([0, -8], [0, -9], [1, -1], ["begin_mask": 1, "end_mask": 1]),
        ]
        for (k, spec) in specs.enumerated() {
            let model = image([
                M.int32s("b", spec.begin), M.int32s("e", spec.end), M.int32s("s", spec.strides),
                M.op("y", "TF.StridedSlice", ["x", "b", "e", "s"], spec.masks.mapValues { .int($0) }),
            ], outputs: ["y"])
            let graph = try M.assertExportRunsAlike(model, [x], "strided slice \(k) \(spec)")
            XCTAssertFalse(types(graph).contains { $0.hasPrefix("TF.") })
        }
    }

    func testStridedSliceRefusals() throws {
        // The ellipsis of an input whose rank is unknown.
        var model = M.model(inputs: [("x", [nil, 6, 5, 4], .float32)], [
            M.op("r", "Reshape", ["x", "shape"], opset: 14),
            M.int32s("b", [0, 1]), M.int32s("e", [0, 2]), M.int32s("s", [1, 1]),
            M.op("y", "TF.StridedSlice", ["r", "b", "e", "s"], ["ellipsis_mask": .int(1)]),
        ], outputs: ["y"])
        model.inputs.append("shape")
        model.nodes.insert(Node(name: "shape", op: .input, inputs: [], outputs: ["shape"]), at: 1)
        model.values["shape"] = ValueInfo(name: "shape", shape: nil, dtype: .int64)
        assertRefused(model, node: "y",
                      "TF.StridedSlice cannot be exported to ONNX: its ellipsis stands for axes of an input whose rank is unknown")
        // Begin computed at run time.
        model = image([
            M.op("shape", "TF.Shape", ["x"]), M.int32s("e", [0, 2, 0, 0]), M.int32s("s", [1, 1, 1, 1]),
            M.op("y", "TF.StridedSlice", ["x", "shape", "e", "s"]),
        ], outputs: ["y"])
        assertRefused(model, node: "y",
                      "TF.StridedSlice cannot be exported to ONNX: its begin and end are computed at run time (ONNX needs its masks resolved against constants)")
    }

    /// A begin behind a TensorFlow Identity of its Const (an op-library Identity: its values are int32) is still a constant.
    func testStridedSliceBeginBehindAnIdentity() throws {
        let model = image([
            M.int32s("b", [0, 1]), M.op("b_read", "Identity", ["b"], opset: 14),
            M.int32s("e", [0, 4]), M.int32s("s", [1, 1]),
            M.op("y", "TF.StridedSlice", ["x", "b_read", "e", "s"], ["begin_mask": .int(1), "end_mask": .int(1)]),
        ], outputs: ["y"])
        try M.assertExportRunsAlike(model, [x], "identity begin")
    }

    func testSliceWithConstantAndComputedSizes() throws {
        let model = image([
            M.int32s("b", [0, 1, 0, 1]), M.int32s("size", [-1, 3, -1, 2]),
            M.op("y", "TF.Slice", ["x", "b", "size"]),
            M.op("s", "TF.Shape", ["x"]), M.int32s("half", [1, 2, 2, 2]),
            M.op("computed", "TF.FloorDiv", ["s", "half"]),
            M.op("z", "TF.Slice", ["x", "b", "computed"]),
        ], outputs: ["y", "z"])
        try M.assertExportRunsAlike(model, [x], "slice")
    }

    func testElementwiseMath() throws {
        let ints = M.int32s("ints", [7, -7, 9, -9, 0, 5], shape: [6])
        let divisors = M.int32s("divisors", [2, 2, -4, -4, 3, -5], shape: [6])
        let model = image([
            M.op("square", "TF.Square", ["x"]), M.op("abs", "Abs", ["x"], opset: 13),
            M.constant("half", Tensor(shape: [], doubles: [0.5], dtype: .float32)),
            M.op("positive", "Add", ["abs", "half"], opset: 14), M.op("rsqrt", "TF.Rsqrt", ["positive"]),
            M.op("reversed", "Neg", ["x"], opset: 13),
            M.op("sqdiff", "TF.SquaredDifference", ["x", "reversed"]),
            M.op("rounded", "Floor", ["x"], opset: 13), M.op("divnonan", "TF.DivNoNan", ["x", "rounded"]),
            M.constant("third", Tensor(shape: [], doubles: [0.3], dtype: .float32)),
            M.op("floordiv", "TF.FloorDiv", ["x", "third"]),
            ints, divisors, M.op("intfloordiv", "TF.FloorDiv", ["ints", "divisors"]),
        ], outputs: ["square", "rsqrt", "sqdiff", "divnonan", "floordiv", "intfloordiv"])
        try M.assertExportRunsAlike(model, [x], "math")
    }

    func testBiasAddInEitherDataFormat() throws {
        let model = image([
            M.constant("bias", M.values([4], seed: 3)), M.op("nhwc", "TF.BiasAdd", ["x", "bias"]),
            M.constant("bias6", M.values([6], seed: 4)),
            M.op("nchw", "TF.BiasAdd", ["x", "bias6"], ["data_format": .string("NCHW")]),
        ], outputs: ["nhwc", "nchw"])
        try M.assertExportRunsAlike(model, [x], "bias add")
    }

    func testMirrorPadReflectAndSymmetric() throws {
        let pads = M.int32s("pads", [0, 0, 1, 2, 2, 1, 0, 0], shape: [4, 2])
        let wide = M.int32s("wide", [0, 0, 6, 0, 0, 5, 1, 1], shape: [4, 2])
        let model = image([
            pads, wide,
            M.op("reflect", "TF.MirrorPad", ["x", "pads"], ["mode": .string("REFLECT")]),
            M.op("symmetric", "TF.MirrorPad", ["x", "pads"], ["mode": .string("SYMMETRIC")]),
            M.op("symmetric_whole", "TF.MirrorPad", ["x", "wide"], ["mode": .string("SYMMETRIC")]),
        ], outputs: ["reflect", "symmetric", "symmetric_whole"])
        let graph = try M.assertExportRunsAlike(model, [x], "mirror pad")
        XCTAssertEqual(graph.opCounts["Pad"], 1)
    }

    func testIdentityNZerosOnesLikeAndFill() throws {
        let model = image([
            M.op("n", "TF.IdentityN", ["x", "x"], outputs: ["n0", "n1"]),
            M.op("zeros", "TF.ZerosLike", ["n0"]), M.op("ones", "TF.OnesLike", ["n1"]),
            M.op("s", "TF.Shape", ["x"]), M.constant("v", Tensor(shape: [], doubles: [2.5], dtype: .float32)),
            M.op("filled", "TF.Fill", ["s", "v"]),
            M.int32s("dims", [2, 3]), M.constant("seven", Tensor(shape: [], doubles: [7], dtype: .int32)),
            M.op("ints", "TF.Fill", ["dims", "seven"]), M.op("intzeros", "TF.ZerosLike", ["ints"]),
            // Keras's swish: IdentityN passes its beta constant on; that output is the constant itself.
            M.constant("beta", Tensor(shape: [], doubles: [1.5], dtype: .float32)),
            M.op("swish", "TF.IdentityN", ["x", "beta"], outputs: ["s0", "s1"]), M.op("scaled", "Mul", ["s0", "s1"], opset: 14),
        ], outputs: ["n0", "zeros", "ones", "filled", "ints", "intzeros", "scaled"])
        let graph = try M.assertExportRunsAlike(model, [x], "fill")
        let read = try ONNXReader.read(bytes: graph.bytes, file: "f.onnx")
        XCTAssertNil(read.producerIndex(of: "s1"), "an Identity of a constant is written as the constant")
    }

    func testAllAndAnyOverConstantComputedAndEmptyAxes() throws {
        let model = image([
            M.constant("zero", Tensor(shape: [], doubles: [0], dtype: .float32)),
            M.op("positive", "Greater", ["x", "zero"], opset: 13),
            M.int32s("axes", [1, -1]), M.op("all", "TF.All", ["positive", "axes"]),
            M.op("any", "TF.Any", ["positive", "axes"], ["keep_dims": .int(1)]),
            M.int32s("none", []), M.op("nothing", "TF.All", ["positive", "none"]),
            M.op("r", "TF.Rank", ["x"]), M.constant("three", Tensor(shape: [], doubles: [3], dtype: .int32)),
            M.op("last", "Sub", ["r", "three"], opset: 14), M.op("computed", "TF.Any", ["positive", "last"]),
        ], outputs: ["all", "any", "nothing", "computed"])
        let graph = try M.assertExportRunsAlike(model, [x], "all/any")
        XCTAssertEqual(graph.opset, 18, "axes computed at run time need ReduceMax's opset-18 form")
    }

    func testConvolutionsOnComputedFilters() throws {
        let filter = M.values([3, 3, 4, 6], seed: 9), depthwise = M.values([3, 2, 4, 2], seed: 11)
        let model = image([
            M.constant("w", filter), M.constant("two", Tensor(shape: [], doubles: [2], dtype: .float32)),
            M.op("computed", "Mul", ["w", "two"], opset: 14),
            M.op("same", "TF.Conv2D", ["x", "computed"], ["strides": .ints([1, 2, 2, 1]), "padding": .string("SAME")]),
            M.op("valid", "TF.Conv2D", ["x", "computed"], ["dilations": .ints([1, 2, 1, 1]), "padding": .string("VALID")]),
            M.op("explicit", "TF.Conv2D", ["x", "computed"],
                 ["padding": .string("EXPLICIT"), "explicit_paddings": .ints([0, 0, 1, 0, 2, 1, 0, 0])]),
            M.constant("dw", depthwise), M.op("dwc", "Mul", ["dw", "two"], opset: 14),
            M.op("depthwise", "TF.DepthwiseConv2dNative", ["x", "dwc"], ["strides": .ints([1, 2, 1, 1]), "padding": .string("SAME")]),
            M.op("constant_filter", "TF.Conv2D", ["x", "w"], ["padding": .string("VALID")]),
        ], outputs: ["same", "valid", "explicit", "depthwise", "constant_filter"])
        let graph = try M.assertExportRunsAlike(model, [x], "conv")
        XCTAssertEqual(graph.opCounts["Conv"], 5)
    }

    func testUnknownTensorFlowOpIsRefusedByName() {
        let model = image([M.op("odd", "TF.Bucketize", ["x"])], outputs: ["odd"])
        XCTAssertThrowsError(try M.export(model)) { error in
            guard let e = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .unsupported)
            XCTAssertEqual(e.place, "odd")
            XCTAssertEqual(e.problem, "TensorFlow op 'Bucketize' (node 'odd') has no ONNX export")
        }
    }

    func testRefusalsSayWhy() {
        assertRefused(image([M.op("s", "TF.Shape", ["x"]), M.op("y", "TF.MirrorPad", ["x", "s"], ["mode": .string("SYMMETRIC")])], outputs: ["y"]),
                      node: "y", "TF.MirrorPad cannot be exported to ONNX: SYMMETRIC padding by amounts computed at run time")
        var unknownRank = M.model(inputs: [("v", nil, .float32)], [
            M.constant("b", M.values([3])), M.op("y", "TF.BiasAdd", ["v", "b"], ["data_format": .string("NCHW")]),
        ], outputs: ["y"])
        assertRefused(unknownRank, node: "y",
                      "TF.BiasAdd cannot be exported to ONNX: a channels-first bias needs the value's rank, which is unknown")
        unknownRank = M.model(inputs: [("v", nil, .float32), ("w", nil, .float32)], [
            M.op("y", "TF.Conv2D", ["v", "w"], ["padding": .string("SAME")]),
        ], outputs: ["y"])
        assertRefused(unknownRank, node: "y",
                      "TF.Conv2D cannot be exported to ONNX: its group count needs the input's and the filter's channel counts, which are unknown")
    }

    private func assertRefused(_ model: Model, node: String, _ problem: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try M.export(model), file: file, line: line) { error in
            guard let e = error as? CheckpointError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, .unsupported, file: file, line: line)
            XCTAssertEqual(e.place, node, file: file, line: line)
            XCTAssertEqual(e.problem, problem, file: file, line: line)
        }
    }
}

/// The op library's op types, as the exporter sees them.
enum OpLibraryTypes {
    /// The `TF.` ones.
    static var tensorFlow: [String] { OpLibrary.supportedOps.filter { $0.hasPrefix("TF.") } }
}
