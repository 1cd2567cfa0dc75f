@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The float64 reference of the fold checks (``Float64Reference``) against what the frameworks
/// themselves computed: TensorFlow/Keras single-layer recordings (every convolution kind, padding,
/// stride, dilation and group the engine's kernel tests cover, in NHWC, NCHW and ONNX's weight
/// layouts), onnxruntime's grouped and padded convolutions, Keras's activations and BatchNorms, and
/// every fixture model made only of ops the reference computes, against its framework's output.
final class Float64ReferenceTests: XCTestCase {
    /// The reference's output for `inputs`, as a float64 core tensor.
    private func reference(_ model: Model, _ inputs: [Tensor]) throws -> Tensor {
        let y = try Float64Reference.run(model, inputs: inputs)[0]
        return Tensor(shape: y.shape, doubles: y.values, dtype: .float64)
    }

    /// Every convolution and dense recording of Tests/Fixtures/engine/kernels, in the layouts the
    /// readers produce: Keras's NHWC, channels-first data, and ONNX's weight layouts with explicit pads.
    func testConvolutionsMatchTensorFlowRecordings() throws {
        let names = try ["conv", "depthwise", "separable", "dense"].flatMap { try KernelCase.names($0) }
        XCTAssertGreaterThanOrEqual(names.count, 25)
        var worst = 0.0
        for name in names {
            let c = try KernelCase(name)
            let nhwc = try reference(c.model(.channelsLast), c.inputs)
            assertClose(nhwc, c.expected, tolerance: 2e-6, "\(name) NHWC")
            worst = max(worst, relativeError(nhwc.doubles(), c.expected.doubles()))
            guard c.isSpatial else { continue }
            let nchw = try reference(c.model(.channelsFirst), c.feeds(.channelsFirst))
            assertClose(try nchw.transposed(Permutation.toChannelsLast(rank: nchw.rank)), c.expected, tolerance: 2e-6, "\(name) NCHW")
            if let onnx = try? c.onnxStyleModel() {
                let y = try reference(onnx, c.feeds(.channelsFirst))
                assertClose(try y.transposed(Permutation.toChannelsLast(rank: y.rank)), c.expected, tolerance: 2e-6, "\(name) ONNX style")
            }
        }
        print("float64 reference vs TensorFlow kernel recordings: \(names.count) cases, worst range-relative \(worst)")
    }

    /// onnxruntime's grouped, strided, dilated and asymmetrically padded Conv and ConvTranspose.
    func testGroupedAndPaddedConvolutionsMatchOnnxruntime() throws {
        for name in ["convT_group2", "conv_group2_pads", "conv3x3_pads"] {
            let c = try ONNXKernelCase(name)
            assertClose(try reference(c.model, [c.x]), c.expected, tolerance: 2e-6, name)
        }
    }

    /// Every activation a layer can apply, against Keras's recordings.
    func testActivationsMatchKeras() throws {
        let cases: [(String, Activation)] = [
            ("linear", .linear), ("relu", .relu()), ("relu_max6_thr05_slope01", .relu(maxValue: 6, threshold: 0.5, negativeSlope: 0.1)),
            ("relu_max3", .relu(maxValue: 3)), ("relu_slope02", .relu(negativeSlope: 0.2)), ("relu6", .relu6),
            ("leaky_relu_03", .leakyRelu(alpha: 0.3)), ("elu_1", .elu(alpha: 1)), ("elu_05", .elu(alpha: 0.5)), ("sigmoid", .sigmoid),
            ("hard_sigmoid_tfkeras", .hardSigmoid(slope: 0.2, offset: 0.5)), ("hard_sigmoid_keras3", .hardSigmoid(slope: 1.0 / 6, offset: 0.5)),
            ("swish", .swish), ("hard_swish_keras3", .hardSwish), ("tanh", .tanh), ("gelu_exact", .gelu(approximate: false)),
            ("gelu_approximate", .gelu(approximate: true)), ("softmax", .softmax), ("softplus", .softplus), ("softsign", .softsign),
            ("exponential", .exponential), ("selu", .selu), ("mish", .mish),
        ]
        let facts = try fixtureJSON("engine/kernels/activations/case.json")
        XCTAssertEqual(Set(facts["names"] as? [String] ?? []), Set(cases.map(\.0)), "every recording has a case")
        let x = try fixtureArray("engine/kernels/activations/x.npy")
        for (name, activation) in cases {
            let input = x.doubles().map { name == "exponential" ? $0 * 0.5 : $0 }
            let y = Float64Activation.apply(activation, input, lastAxis: x.shape.last!)
            assertClose(y, shape: x.shape, try fixtureArray("engine/kernels/activations/\(name).npy"), tolerance: 2e-6, name)
        }
    }

    /// A BatchNorm in inference mode over NHWC, NCHW, NC and NLC values, with and without gamma and
    /// beta, against tf_keras.
    func testBatchNormMatchesKeras() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            for (center, scale, file) in [(true, true, "infer_tfkeras"), (false, false, "infer_nocenter_noscale")] {
                var weights = [Weight(role: .movingMean, tensor: try f.array("moving_mean"), storageKey: "m"),
                               Weight(role: .movingVariance, tensor: try f.array("moving_variance"), storageKey: "v")]
                if scale { weights.append(Weight(role: .gamma, tensor: try f.array("gamma"), storageKey: "g")) }
                if center { weights.append(Weight(role: .beta, tensor: try f.array("beta"), storageKey: "b")) }
                let node = Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: f.epsilon, axis: f.axis, center: center, scale: scale, trainable: false)),
                                inputs: ["x"], outputs: ["y"], weights: weights)
                let model = Model(name: name, format: .kerasZip, inputs: ["x"], outputs: ["y"], nodes: [node], values: [:])
                assertClose(try reference(model, [f.x]), try f.array(file), tolerance: 2e-6, "\(name) \(file)")
            }
        }
    }

    /// Every fixture model (Keras, ONNX, GraphDef, SavedModel) whose ops the reference all computes
    /// (no pooling, merge or op-library op but a per-channel Add), on its recorded input, against
    /// its framework's recorded output.
    func testWholeFixtureModelsMatchTheirFrameworks() throws {
        var compared: [String] = []
        var worst = 0.0
        for (path, config) in try FixtureModelFiles.all() {
            let url = FixturePaths.url(path)
            // The recorded input and output lie beside the file (a checkpoint's prefix, a SavedModel's folder).
            let folder = url.deletingLastPathComponent()
            let flavour = url.lastPathComponent.hasPrefix("keras3") ? "keras3" : "keras2"
            let outputName = path.hasPrefix("keras/") ? "output_\(flavour).npy" : "output.npy"
            let inputURL = folder.appendingPathComponent("input.npy"), outputURL = folder.appendingPathComponent(outputName)
            guard FileManager.default.fileExists(atPath: inputURL.path), FileManager.default.fileExists(atPath: outputURL.path),
                  let model = try? Checkpoint.read(url.path, config: config), model.outputs.count == 1, model.inputs.count == 1 else { continue }
            let input = try NumPyFile.read(inputURL.path), expected = try NumPyFile.read(outputURL.path)
            guard let y = try? reference(model, [input]) else { continue }
            // TensorFlow computing in float16 (a float16 GraphDef, or mixed_float16's Casts to half)
            // rounds at float16's epsilon.
            let halfPrecision = path.hasPrefix("tensorflow/conv_bn_float16/") || path.hasPrefix("tensorflow/conv_bn_mixed/")
            let tolerance = halfPrecision ? 1e-3 : 1e-5
            assertClose(y, expected, tolerance: tolerance, path)
            if !halfPrecision { worst = max(worst, relativeError(y.doubles(), expected.doubles())) }
            compared.append(path)
        }
        let families = Set(compared.map { String($0.prefix { $0 != "/" }) })
        XCTAssertTrue(families.isSuperset(of: ["keras", "onnx", "tensorflow", "tf_savedmodel"]), "\(families)")
        XCTAssertGreaterThanOrEqual(compared.count, 60)
        print("float64 reference vs framework outputs: \(compared.count) fixture models (\(families.sorted())), worst range-relative \(worst) (float32 models)")
    }

    /// An op the reference lacks, and more work than its budget, are refused with a reason that
    /// names them (the fold check then falls back and says why).
    func testWhatItCannotComputeIsRefusedByName() throws {
        let c = try KernelCase("conv2d_same_s2")
        var budget = Float64Budget()
        budget.multiplyAdds = 10
        XCTAssertThrowsError(try Float64Reference.run(try c.model(.channelsLast), inputs: c.inputs, budget: budget)) { error in
            XCTAssertTrue("\(error)".contains("multiply-adds"), "\(error)")
        }
        let pool = Node(name: "pool", op: .pool(Pool(kind: .max, poolSize: [2, 2], strides: [2, 2], padding: .valid)),
                        inputs: ["x"], outputs: ["y"])
        let model = Model(name: "pool", format: .kerasZip, inputs: ["x"], outputs: ["y"], nodes: [pool], values: [:])
        XCTAssertThrowsError(try Float64Reference.run(model, inputs: [Tensor(shape: [1, 4, 4, 1], floats: Array(repeating: 1, count: 16))])) { error in
            XCTAssertTrue("\(error)".contains("pool"), "\(error)")
        }
    }
}
