@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvTestSupport
import XCTest

final class NonFiniteWeightScanTests: XCTestCase {
    private typealias M = FoldTestModels

    /// `input -> conv_i -> bn_i` twice in a row, each `1x1xCxC` kernel deferred to a source that
    /// may be read on another thread; the second kernel holds NaN at `nanAt` when given. With
    /// C = 1024 the kernels hold 8 MB, enough for the planner to scan them ahead.
    private func model(nanAt: Int?, channels c: Int = 8) -> Model {
        var rng = M.Random(state: 11)
        var nodes: [Node] = [Node(name: "input", op: .input, inputs: [], outputs: ["input"])]
        var values: [String: ValueInfo] = ["input": ValueInfo(name: "input", shape: [nil, nil, nil, c], layout: .channelsLast)]
        var last = "input"
        for i in 0..<2 {
            var kernel = rng.uniform(c * c, -1, 1)
            if i == 1, let nanAt { kernel[nanAt] = .nan }
            let loaded = Tensor(shape: [1, 1, c, c], doubles: kernel, dtype: .float32)
            let deferred = Tensor(dtype: .float32, shape: [1, 1, c, c], source: CountingTensorSource(loaded, concurrent: true))
            let conv = Node(name: "conv\(i)", op: .conv(Convolution(rank: 2, filters: c, kernelSize: [1, 1], useBias: false)),
                            inputs: [last], outputs: ["c\(i)"],
                            weights: [Weight(role: .kernel, tensor: deferred, layout: .hwio, storageKey: "k\(i)")])
            let bn = Node(name: "bn\(i)", op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: -1)), inputs: ["c\(i)"], outputs: ["b\(i)"],
                          weights: M.bnWeights(c, &rng))
            nodes += [conv, bn]
            for v in ["c\(i)", "b\(i)"] { values[v] = ValueInfo(name: v, shape: [nil, nil, nil, c], layout: .channelsLast) }
            last = "b\(i)"
        }
        return Model(name: "t", format: .keras2H5, inputs: ["input"], outputs: [last], nodes: nodes, values: values)
    }

    /// The scan made ahead finds the same first NaN as a scan of the tensor itself, and a clean
    /// kernel as clean.
    func testScanAheadFindsTheFirstNonFiniteElement() throws {
        let m = model(nanAt: 37)
        let scan = NonFiniteWeightScan(model: m, minimumBytes: 0)
        let conv0 = m.nodes[1], conv1 = m.nodes[3]
        XCTAssertEqual(try XCTUnwrap(scan.result(conv0, conv0.weights[0])).get(), nil)
        XCTAssertEqual(try XCTUnwrap(scan.result(conv1, conv1.weights[0])).get(), 37)
        XCTAssertNil(scan.result(m.nodes[2], m.nodes[2].weights[0]), "a BN's own statistics are not scanned ahead")
    }

    /// Planning with the scan ahead decides as planning without it, and reads each kernel once.
    func testPlannerUsesTheScanAndDecidesTheSame() throws {
        let m = model(nanAt: 5, channels: 1024)
        let decisions = FoldPlanner(model: m).plan()
        for conv in [m.nodes[1], m.nodes[3]] {
            XCTAssertEqual((conv.weights[0].tensor.source as! CountingTensorSource).reads, 1, "\(conv.name) read again after the scan")
        }
        XCTAssertTrue(decisions[0].folds)
        XCTAssertFalse(decisions[1].folds)
        XCTAssertTrue(decisions[1].reason?.contains("NaN or infinite values (first at element 5)") ?? false, "\(decisions[1])")
        let lone = FoldPlanner(model: m).decide(bnIndex: 4)
        XCTAssertEqual(lone.reason, decisions[1].reason)
    }
}
