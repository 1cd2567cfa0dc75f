@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
import XCTest

/// One recorded case of Tests/Fixtures/engine/kernels (tools/fixtures/kernel_reference.py), turned
/// into a one-node ``Model`` and run through ``ModelRunner`` in NHWC and, for spatial ops, NCHW
/// (inputs transposed to NCHW, the output transposed back before comparing).
struct KernelCase {
    let name: String
    let facts: [String: Any]
    let inputs: [Tensor]
    let expected: Tensor

    init(_ name: String) throws {
        self.name = name
        facts = try fixtureJSON("engine/kernels/\(name)/case.json")
        let count = facts["inputs"] as? Int ?? 1
        inputs = try (0..<count).map { try fixtureArray("engine/kernels/\(name)/\($0 == 0 ? "x" : "x\($0)").npy") }
        expected = try fixtureArray("engine/kernels/\(name)/y.npy")
    }

    private func ints(_ key: String) -> [Int] { facts[key] as? [Int] ?? [] }

    private var padding: Padding {
        switch facts["padding"] as? String {
        case "same": return .same
        case "causal": return .causal
        default: return .valid
        }
    }

    private var activation: Activation {
        switch facts["activation"] as? String {
        case "relu": return .relu()
        case "tanh": return .tanh
        default: return .linear
        }
    }

    /// Whether the op has a layout attribute (and so an NCHW variant).
    var isSpatial: Bool {
        ["conv", "depthwise", "separable", "transpose", "pool", "upsample", "globalpool", "pad", "crop"]
            .contains(facts["op"] as? String ?? "")
    }

    /// The op for `layout`; axes of concat/softmax are moved to the channels-first position.
    func op(_ layout: DataLayout) throws -> Op {
        let rank = inputs[0].rank
        func moved(_ axis: Int) -> Int {
            guard layout == .channelsFirst else { return axis }
            return Permutation.toChannelsFirst(rank: rank).firstIndex(of: Op.resolveAxis(axis, rank: rank))!
        }
        func convolution() -> Convolution {
            Convolution(rank: facts["rank"] as? Int ?? 2, filters: facts["filters"] as? Int ?? 0, kernelSize: ints("kernel_size"),
                        strides: ints("strides"), dilations: ints("dilations"), padding: padding,
                        groups: facts["groups"] as? Int ?? 1, depthMultiplier: facts["depth_multiplier"] as? Int ?? 1,
                        outputPadding: facts["output_padding"] as? [Int], useBias: facts["use_bias"] as? Bool ?? true,
                        activation: activation, layout: layout)
        }
        switch facts["op"] as? String {
        case "conv": return .conv(convolution())
        case "depthwise": return .depthwiseConv(convolution())
        case "separable": return .separableConv(convolution())
        case "transpose": return .convTranspose(convolution())
        case "pool":
            return .pool(Pool(kind: facts["kind"] as? String == "max" ? .max : .average, poolSize: ints("pool_size"),
                              strides: ints("strides"), padding: padding, layout: layout))
        case "dense": return .dense(Dense(units: facts["units"] as? Int ?? 0, activation: activation))
        case "upsample":
            return .upsample(size: ints("size"), interpolation: facts["interpolation"] as? String ?? "", layout: layout)
        case "globalpool":
            return .globalPool(GlobalPool(kind: facts["kind"] as? String == "max" ? .max : .average,
                                          keepDims: facts["keepdims"] as? Bool ?? false, layout: layout))
        case "normalization": return .normalization(axis: ints("axis").map(moved))
        case "pad", "crop":
            let pairs = (facts[facts["op"] as! String == "pad" ? "padding" : "cropping"] as? [[Int]] ?? []).map { Pair($0[0], $0[1]) }
            return facts["op"] as? String == "pad" ? .pad(padding: pairs, layout: layout) : .crop(cropping: pairs, layout: layout)
        case "softmax": return .softmax(axis: moved(facts["axis"] as? Int ?? -1))
        case "elementwise": return .elementwise(ElementwiseKind(rawValue: facts["kind"] as? String ?? "")!)
        case "concat": return .concat(axis: moved(facts["axis"] as? Int ?? -1))
        case "permute": return .permute(permutation: ints("dims"))
        case "reshape": return .reshape(targetShape: ints("target"))
        case "flatten": return .flatten
        case "rescaling":
            return .rescaling(scale: facts["scale"] as? [Double] ?? [], offset: facts["offset"] as? [Double] ?? [])
        default: throw XCTSkip("unknown op in \(name)")
        }
    }

    /// The case's weights in Keras layouts.
    func weights() throws -> [Weight] {
        let layouts: [String: KernelLayout] = ["conv": .hwio, "depthwise": .hwcm, "transpose": .hwoi, "dense": .io, "separable": .hwcm]
        var result: [Weight] = try (facts["roles"] as? [String] ?? []).map { role in
            let tensor = try fixtureArray("engine/kernels/\(name)/\(role).npy")
            let layout: KernelLayout = role == "bias" ? .vector : role == "pointwise_kernel" ? .hwio : layouts[facts["op"] as? String ?? ""] ?? .vector
            return Weight(role: WeightRole(rawValue: role), tensor: tensor, layout: layout, storageKey: role)
        }
        if facts["op"] as? String == "normalization" {
            for role in [WeightRole.mean, .variance] {
                let values = facts[role.rawValue] as? [Double] ?? []
                result.append(Weight(role: role, tensor: Tensor(shape: [values.count], doubles: values, dtype: .float32), storageKey: role.rawValue))
            }
        }
        return result
    }

    /// A one-node model running the case's op in `layout`.
    func model(_ layout: DataLayout) throws -> Model {
        let names = inputs.indices.map { "in\($0)" }
        var values: [String: ValueInfo] = [:]
        for (i, n) in names.enumerated() {
            var shape: [Int?] = try feeds(layout)[i].shape.map { $0 }
            shape[0] = nil
            values[n] = ValueInfo(name: n, shape: shape, layout: inputs[i].rank >= 3 ? layout : nil)
        }
        let node = Node(name: name, op: try op(layout), inputs: names, outputs: ["out"], weights: try weights())
        return Model(name: name, format: .kerasZip, inputs: names, outputs: ["out"], nodes: [node], values: values)
    }

    /// The inputs as fed in `layout`.
    func feeds(_ layout: DataLayout) throws -> [Tensor] {
        guard layout == .channelsFirst else { return inputs }
        return try inputs.map { $0.rank >= 3 ? try $0.transposed(Permutation.toChannelsFirst(rank: $0.rank)) : $0 }
    }

    /// Runs the case in `layout` and returns the output in NHWC.
    func run(_ layout: DataLayout) throws -> Tensor {
        let runner = try ModelRunner(model: try model(layout))
        var out = try runner.run(try feeds(layout))[0]
        if layout == .channelsFirst, out.rank >= 3 {
            out = try out.transposed(Permutation.toChannelsLast(rank: out.rank))
        }
        return out
    }

    /// Asserts the engine reproduces the recording in NHWC and (spatial ops) NCHW.
    func check(tolerance: Double = 1e-5, file: StaticString = #filePath, line: UInt = #line) throws {
        assertClose(try run(.channelsLast), expected, tolerance: tolerance, "\(name) NHWC", file: file, line: line)
        if isSpatial {
            assertClose(try run(.channelsFirst), expected, tolerance: tolerance, "\(name) NCHW", file: file, line: line)
        }
    }

    /// The case as an ONNX reader would describe it: NCHW, kernels `oihw` (conv, depthwise as
    /// `(C*M, 1, k...)`) or `iohw` (transposed conv), and SAME/causal padding as explicit pads
    /// (`total = max((ceil(in/s) - 1) s + (k-1) d + 1 - in, 0)`, the odd one after; docs/math.md, Layouts;
    /// a transposed conv's pads put before what the forward SAME conv from its output would).
    func onnxStyleModel() throws -> Model {
        var model = try self.model(.channelsFirst)
        var node = model.nodes[0]
        guard var c = convolutionAttributes(node.op) else { throw XCTSkip("not a convolution") }
        let rank = c.rank
        let spatial = Array(inputs[0].shape[1..<(1 + rank)])
        let outputSpatial = Array(expected.shape[1..<(1 + rank)])
        var pairs: [Pair] = []
        for a in 0..<rank {
            let dk = (c.kernelSize[a] - 1) * c.dilations[a] + 1, s = c.strides[a]
            switch (c.padding, node.op) {
            case (.same, .convTranspose):
                // TensorFlow places the window as the forward SAME conv from the output would:
                // before = that conv's pad before; the rest (output_padding included) goes after.
                let out = outputSpatial[a]
                let before = max(((out + s - 1) / s - 1) * s + dk - out, 0) / 2
                let total = (spatial[a] - 1) * s + dk + (c.outputPadding?[a] ?? 0) - out
                pairs.append(Pair(before, total - before))
            case (.same, _):
                let total = max(((spatial[a] + s - 1) / s - 1) * s + dk - spatial[a], 0)
                pairs.append(Pair(total / 2, total - total / 2))
            case (.causal, _): pairs.append(Pair(dk - 1, 0))
            default: pairs.append(Pair(0, 0))
            }
        }
        c.padding = .explicit(pairs)
        for i in node.weights.indices {
            var w = node.weights[i]
            let r = w.tensor.rank
            switch (w.role, node.op) {
            case (.kernel, .conv), (.kernel, .convTranspose):
                w.tensor = try w.tensor.transposed([r - 1, r - 2] + Array(0..<(r - 2)))
                w.layout = node.opName.hasSuffix("Transpose") ? .iohw : .oihw
            case (.kernel, .depthwiseConv):
                let k = Array(w.tensor.shape[0..<(r - 2)])
                let cm = w.tensor.shape[r - 2] * w.tensor.shape[r - 1]
                w.tensor = try w.tensor.reshaped(k + [1, cm]).transposed([r - 1, r - 2] + Array(0..<(r - 2)))
                w.layout = .oihw
            default: continue
            }
            node.weights[i] = w
        }
        switch node.op {
        case .conv: node.op = .conv(c)
        case .depthwiseConv: node.op = .depthwiseConv(c)
        case .convTranspose: node.op = .convTranspose(c)
        default: throw XCTSkip("no ONNX form")
        }
        model.nodes[0] = node
        return model
    }

    private func convolutionAttributes(_ op: Op) -> Convolution? {
        switch op {
        case .conv(let c), .depthwiseConv(let c), .convTranspose(let c): return c
        default: return nil
        }
    }

    /// Asserts the ONNX-style description (``onnxStyleModel()``) reproduces the recording.
    func checkONNXStyle(file: StaticString = #filePath, line: UInt = #line) throws {
        let runner = try ModelRunner(model: try onnxStyleModel())
        let out = try runner.run(try feeds(.channelsFirst))[0].transposed(Permutation.toChannelsLast(rank: expected.rank))
        assertClose(out, expected, "\(name) ONNX style", file: file, line: line)
    }

    /// Every case name whose folder starts with `prefix`.
    static func names(_ prefix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: FixturePaths.url("engine/kernels").path)
            .filter { $0.hasPrefix(prefix) }.sorted()
    }
}
