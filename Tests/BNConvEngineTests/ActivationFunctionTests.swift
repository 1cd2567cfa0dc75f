@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class ActivationFunctionTests: XCTestCase {
    /// Each Activation case and the recording (tools/fixtures/kernel_reference.py) it must match.
    private let cases: [(String, Activation)] = [
        ("linear", .linear), ("relu", .relu()),
        ("relu_max6_thr05_slope01", .relu(maxValue: 6, threshold: 0.5, negativeSlope: 0.1)),
        ("relu_max3", .relu(maxValue: 3)), ("relu_slope02", .relu(negativeSlope: 0.2)),
        ("relu6", .relu6), ("leaky_relu_03", .leakyRelu(alpha: 0.3)), ("elu_1", .elu(alpha: 1)), ("elu_05", .elu(alpha: 0.5)),
        ("sigmoid", .sigmoid), ("hard_sigmoid_tfkeras", .hardSigmoid(slope: 0.2, offset: 0.5)),
        ("hard_sigmoid_keras3", .hardSigmoid(slope: 1.0 / 6, offset: 0.5)), ("swish", .swish),
        ("hard_swish_keras3", .hardSwish), ("tanh", .tanh), ("gelu_exact", .gelu(approximate: false)),
        ("gelu_approximate", .gelu(approximate: true)), ("softmax", .softmax), ("softplus", .softplus),
        ("softsign", .softsign), ("exponential", .exponential), ("selu", .selu), ("mish", .mish),
    ]

    func testEveryActivationMatchesKeras() throws {
        let facts = try fixtureJSON("engine/kernels/activations/case.json")
        XCTAssertEqual(Set(facts["names"] as? [String] ?? []), Set(cases.map(\.0)), "every recording has a case")
        let x = try fixtureArray("engine/kernels/activations/x.npy")
        for (name, activation) in cases {
            var input = x.floats()
            if name == "exponential" { input = input.map { $0 * 0.5 } }
            var y = [Float](repeating: 0, count: input.count)
            input.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer {
                    ActivationFunction.apply(activation, input: xp.baseAddress!, output: $0.baseAddress!, count: input.count,
                                             lastAxis: x.shape.last!, parallel: .allCores)
                }
            }
            assertClose(y, shape: x.shape, try fixtureArray("engine/kernels/activations/\(name).npy"), name)
        }
    }
}
