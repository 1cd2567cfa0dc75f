@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
import XCTest

/// One case of Tests/Fixtures/engine/onnx (tools/fixtures/onnx_kernel_reference.py, recorded with
/// onnxruntime): an ONNX Conv or ConvTranspose in NCHW with its ONNX-layout kernel.
struct ONNXKernelCase {
    let name: String
    let x: Tensor
    let expected: Tensor
    let model: Model

    init(_ name: String) throws {
        self.name = name
        let facts = try fixtureJSON("engine/onnx/\(name)/case.json")
        x = try fixtureArray("engine/onnx/\(name)/x.npy")
        expected = try fixtureArray("engine/onnx/\(name)/y.npy")
        let kernel = try fixtureArray("engine/onnx/\(name)/kernel.npy")
        let bias = try fixtureArray("engine/onnx/\(name)/bias.npy")
        let pads = facts["pads"] as? [Int] ?? []
        let rank = pads.count / 2
        let transposed = facts["op"] as? String == "ConvTranspose"
        let groups = facts["group"] as? Int ?? 1
        let c = Convolution(rank: rank, filters: bias.count, kernelSize: facts["kernel_shape"] as? [Int] ?? [],
                            strides: facts["strides"] as? [Int], dilations: facts["dilations"] as? [Int],
                            padding: .explicit((0..<rank).map { Pair(pads[$0], pads[rank + $0]) }), groups: groups,
                            outputPadding: facts["output_padding"] as? [Int], layout: .channelsFirst)
        let node = Node(name: name, op: transposed ? .convTranspose(c) : .conv(c), inputs: ["x"], outputs: ["y"],
                        weights: [Weight(role: .kernel, tensor: kernel, layout: transposed ? .iohw : .oihw, storageKey: "w"),
                                  Weight(role: .bias, tensor: bias, storageKey: "b")])
        model = Model(name: name, format: .onnx, inputs: ["x"], outputs: ["y"], nodes: [node], values: [:])
    }

    /// Asserts the engine reproduces onnxruntime.
    func check(file: StaticString = #filePath, line: UInt = #line) throws {
        assertClose(try ModelRunner(model: model).run([x])[0], expected, name, file: file, line: line)
    }
}
