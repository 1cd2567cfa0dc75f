@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Kernels that stream their weights (``RunOptions/streamsWeights``) compute exactly what kernels
/// with prepared weights compute, whatever the weight's file, layout and dtype.
final class KernelWeightsTests: XCTestCase {
    /// Every Keras fixture (each flavour), read with every weight left in its file: a streaming runner
    /// gives the same bits as a runner of the loaded model (Winograd off in both), and leaves the
    /// large weights in the file.
    func testStreamingRunnerGivesThePreparedRunnersBits() throws {
        var ran = 0, left = 0
        for fixture in try KerasFixtureCase.all() {
            let input = try NumPyFile.read(fixture.directory.appendingPathComponent("input.npy").path)
            for file in ["keras2.h5", "keras3_legacy.h5"] {
                let path = fixture.directory.appendingPathComponent(file).path
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let deferred = try Checkpoint.read(path, deferringWeights: 0)
                let streaming = try ModelRunner(model: deferred, options: RunOptions(streamsWeights: true))
                left += streaming.model.nodes.reduce(0) { n, node in n + node.weights.filter(\.tensor.isDeferred).count }
                XCTAssertTrue(streaming.model.nodes.allSatisfy { node in
                    node.weights.allSatisfy { !$0.tensor.isDeferred || KernelWeights.staysInFile(node, $0) }
                }, "\(fixture.name)/\(file): only streamed weights stay in the file")
                let prepared = try ModelRunner(model: deferred, options: RunOptions(winograd: false))
                let expected = try prepared.run([input])
                XCTAssertEqual(try streaming.run([input]), expected, "\(fixture.name)/\(file)")
                // A second run reads the weights again and gives the same bits.
                XCTAssertEqual(try streaming.run([input]), expected, "\(fixture.name)/\(file), second run")
                ran += 1
            }
        }
        XCTAssertGreaterThan(ran, 20)
        XCTAssertGreaterThan(left, 20, "the fixtures must leave kernels in their files")
    }

    /// A channels-first (`oihw`) kernel planned for a channels-last kernel (`hwio`) and a float64 one:
    /// the plan's shape, and the values made at each use, are those of the prepared weights.
    func testStreamedWeightsConvertLayoutAndDType() throws {
        let values = (0..<24).map { Double($0) * 0.25 - 2 }
        for dtype in [DType.float32, .float64, .float16] {
            let tensor = Tensor(shape: [2, 3, 2, 2], doubles: values, dtype: dtype)
            let deferred = Tensor(dtype: dtype, shape: tensor.shape, source: CountingTensorSource(tensor))
            let node = Node(name: "conv", op: .opaque(type: "Conv"), inputs: ["x"], outputs: ["y"],
                            weights: [Weight(role: .kernel, tensor: deferred, layout: .oihw, storageKey: "conv/kernel")])
            for target in [KernelLayout.hwio, .oihw] {
                let streamed = try KernelWeights(node, .kernel, as: target, streamed: true)
                XCTAssertNil(streamed.preparedValues)
                let prepared = try KernelWeights(node, .kernel, as: target, streamed: false)
                XCTAssertNotNil(prepared.preparedValues)
                XCTAssertEqual(streamed.shape, prepared.shape)
                XCTAssertEqual(streamed.shape, target == .hwio ? [2, 2, 3, 2] : [2, 3, 2, 2])
                let made = try streamed.withFloats(BufferPool()) { Array($0) }
                XCTAssertEqual(made, try prepared.values(), "\(dtype) as \(target)")
                XCTAssertEqual(made.count, 24)
            }
        }
    }
}
