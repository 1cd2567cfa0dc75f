@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvVerify
@testable import BNConvTestSupport
import Foundation
import XCTest

/// How the float64 reference reads kernels (``Float64Kernel``, ``Float64KernelView``) and permutes
/// values (``Float64Tensor/permuted(_:)``): however a kernel is stored (float32 lent in place, at an
/// odd address, in another layout, or in another dtype), the reference computes the same numbers.
final class Float64KernelTests: XCTestCase {
    /// ``Float64Tensor/permuted(_:)`` against the definition (`out[i...] = in[i[perm]...]`), for
    /// every permutation of ranks 0 to 4, with axes of 1 and 0 among them.
    func testPermutedFollowsTheDefinition() {
        var rng = FoldTestModels.Random(state: 11)
        func permutations(_ n: Int) -> [[Int]] {
            guard n > 0 else { return [[]] }
            return permutations(n - 1).flatMap { p in (0...p.count).map { k in var q = p; q.insert(n - 1, at: k); return q } }
        }
        let shapes: [[Int]] = [[], [5], [3, 4], [2, 1, 3], [2, 3, 4, 5], [3, 0, 2], [1, 4, 1, 3]]
        var checked = 0
        for shape in shapes {
            let count = shape.reduce(1, *)
            let t = Float64Tensor(shape: shape, values: rng.uniform(count, -1, 1))
            for permutation in permutations(shape.count) {
                let p = t.permuted(permutation)
                XCTAssertEqual(p.shape, permutation.map { shape[$0] })
                XCTAssertEqual(p.count, count)
                // Walk the result's indices in C order; each reads the source at the permuted index.
                var index = [Int](repeating: 0, count: shape.count)
                for k in 0..<count {
                    var source = [Int](repeating: 0, count: shape.count)
                    for (axis, from) in permutation.enumerated() { source[from] = index[axis] }
                    let flat = source.indices.reduce(0) { $0 * shape[$1] + source[$1] }
                    XCTAssertEqual(p.values[k], t.values[flat], "\(shape) \(permutation) at \(k)")
                    var axis = shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < p.shape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }

    /// The same 3x3 convolution (4 -> 6 channels, grouped in 2, padded, strided) with its kernel stored
    /// five ways: float32 HWIO held in memory (lent in place), float32 HWIO lent by a source at an
    /// odd address (copied aligned), float32 OIHW (arranged into a float32 copy), float64 HWIO and
    /// float16-exact values in float16 (widened into Doubles). The float64 reference gives the same
    /// numbers bit for bit, and its rounding bound (absolute values) agrees too.
    func testEveryKernelStorageGivesTheSameNumbers() throws {
        var rng = FoldTestModels.Random(state: 29)
        // float16-exact values, so that every dtype holds the very same numbers.
        let hwio = rng.uniform(3 * 3 * 2 * 6, -2, 2).map { Double(Float16($0)) }
        let bias = rng.uniform(6, -1, 1).map { Double(Float16($0)) }
        let hwioTensor = Float64Tensor(shape: [3, 3, 2, 6], values: hwio)
        let oihw = hwioTensor.permuted([3, 2, 0, 1])
        let floats = hwio.map { Float($0) }
        let kernels: [(String, Tensor, KernelLayout)] = [
            ("float32 in memory", Tensor(shape: [3, 3, 2, 6], floats: floats), .hwio),
            ("float32 at an odd address", Tensor(dtype: .float32, shape: [3, 3, 2, 6], source: OddAddressSource(floats)), .hwio),
            ("float32 OIHW", Tensor(shape: [6, 2, 3, 3], floats: oihw.values.map { Float($0) }), .oihw),
            ("float64", Tensor(shape: [3, 3, 2, 6], doubles: hwio, dtype: .float64), .hwio),
            ("float16", Tensor(shape: [3, 3, 2, 6], doubles: hwio, dtype: .float16), .hwio),
        ]
        let x = Tensor(shape: [2, 5, 7, 4], floats: rng.uniform(2 * 5 * 7 * 4, -1, 1).map { Float($0) })
        var outputs: [(String, [Double], [Double])] = []
        for (name, kernel, layout) in kernels {
            let conv = Convolution(rank: 2, filters: 6, kernelSize: [3, 3], strides: [2, 1], padding: .same, groups: 2)
            let node = Node(name: "conv", op: .conv(conv), inputs: ["x"], outputs: ["y"],
                            weights: [Weight(role: .kernel, tensor: kernel, layout: layout, storageKey: "kernel"),
                                      Weight(role: .bias, tensor: Tensor(shape: [6], doubles: bias, dtype: .float32), storageKey: "bias")])
            let model = Model(name: "t", format: .keras2H5, inputs: ["x"], outputs: ["y"],
                              nodes: [Node(name: "x", op: .input, inputs: [], outputs: ["x"]), node],
                              values: ["x": ValueInfo(name: "x", shape: [nil, 5, 7, 4], layout: .channelsLast)])
            let y = try Float64Reference.run(model, inputs: [x])[0]
            XCTAssertEqual(y.shape, [2, 3, 7, 6], name)
            let bound = try Float64Reference.roundingScale(model, inputs: [x]).magnitudes[0]
            outputs.append((name, y.values, bound.values))
        }
        for (name, values, bound) in outputs.dropFirst() {
            XCTAssertEqual(values, outputs[0].1, "\(name) computes other numbers than \(outputs[0].0)")
            XCTAssertEqual(bound, outputs[0].2, "\(name) bounds the rounding otherwise than \(outputs[0].0)")
        }
        XCTAssertTrue(outputs[0].1.contains { $0 != 0 })
    }
}

/// A deferred tensor's source that lends its float32 bytes one byte past an aligned address, as a
/// STORED `.keras` member or a packed file can.
private final class OddAddressSource: TensorSource, @unchecked Sendable {
    private let bytes: [UInt8]

    init(_ floats: [Float]) {
        bytes = [0] + floats.withUnsafeBytes { Array($0) }
    }

    func loadBytes() throws -> [UInt8] { Array(bytes.dropFirst()) }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try bytes.withUnsafeBytes { raw in
            let lent = UnsafeRawBufferPointer(rebasing: raw.dropFirst())
            XCTAssertNotEqual(Int(bitPattern: lent.baseAddress!) % MemoryLayout<Float>.alignment, 0, "the bytes are lent aligned")
            return try body(lent)
        }
    }

    var loadsConcurrently: Bool { true }
    var lendsInPlace: Bool { true }
}
