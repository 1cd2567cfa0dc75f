@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Keras files converted to channels-first by ``ConvertLayout``, written by ``KerasWriter`` and
/// read back must answer what Keras recorded for the original (inputs and outputs transposed).
final class KerasLayoutWriteTests: XCTestCase {
    /// Full-model flavours and the reference each matches.
    private let files: [(file: String, reference: String)] = [
        ("keras2.h5", "output_keras2"), ("keras2.keras", "output_keras2"),
        ("keras3.keras", "output_keras3"), ("keras3_legacy.h5", "output_keras3"),
    ]
    /// Cases computing in half precision inside Keras (see ModelRunnerKerasFixturesTests).
    private let halfPrecisionTolerance: [String: Double] = ["mixed_dtypes": 5e-3, "mixed_bfloat16": 2e-2]

    /// The fixtures whose input is 3-, 4- or 5-D.
    private func spatialCases() throws -> [String] {
        let root = FixturePaths.url("keras")
        return try FileManager.default.contentsOfDirectory(atPath: root.path).sorted().filter { name in
            let input = root.appendingPathComponent("\(name)/input.npy").path
            guard FileManager.default.fileExists(atPath: input), let t = try? NumPyFile.read(input) else { return false }
            return t.shape.count >= 3
        }
    }

    private func references(_ folder: URL, _ stem: String) -> [URL] {
        let single = folder.appendingPathComponent("\(stem).npy")
        if FileManager.default.fileExists(atPath: single.path) { return [single] }
        return (0..<16).map { folder.appendingPathComponent("\(stem)_\($0).npy") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// `t` moved from channels-last to `layout` (a no-op below rank 3).
    private func toLayout(_ t: Tensor, _ layout: DataLayout) throws -> Tensor {
        guard t.shape.count >= 3, layout == .channelsFirst else { return t }
        return try t.transposed([0, t.shape.count - 1] + Array(1..<(t.shape.count - 1)))
    }

    /// `t` moved from `layout` back to channels-last.
    private func fromLayout(_ t: Tensor, _ layout: DataLayout) throws -> Tensor {
        guard t.shape.count >= 3, layout == .channelsFirst else { return t }
        return try t.transposed([0] + Array(2..<t.shape.count) + [1])
    }

    private func checkEveryFixture(keepIOLayout: Bool) throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var checked = 0, worst = 0.0
        for name in try spatialCases() {
            let folder = FixturePaths.url("keras/\(name)")
            let input = try NumPyFile.read(folder.appendingPathComponent("input.npy").path)
            for (file, stem) in files {
                let path = folder.appendingPathComponent(file).path
                let refs = references(folder, stem)
                guard FileManager.default.fileExists(atPath: path), !refs.isEmpty else { continue }
                let where_ = "\(name)/\(file)\(keepIOLayout ? " keep-io" : "")"
                let original = try Checkpoint.read(path)
                let converted = try ConvertLayout(target: .channelsFirst, keepIOLayout: keepIOLayout).apply(to: original).model
                let out = dir.appendingPathComponent("\(name)_\(file)").path
                do {
                    try Checkpoint.write(converted, to: out)
                } catch {
                    XCTFail("\(where_): \(error)")
                    continue
                }
                let reread = try Checkpoint.read(out)
                XCTAssertEqual(reread.nodes.count, converted.nodes.count, "\(where_) node count")
                // The file read back declares the boundary the pass produced (a rank-3 keep-io input
                // behind its [2, 1] Permute stays channels-last).
                let boundary = LayoutBoundary(source: original, converted: reread)
                XCTAssertEqual(boundary, LayoutBoundary(source: original, converted: converted), "\(where_) boundary")
                if keepIOLayout {
                    XCTAssertTrue(boundary.isIdentity, "\(where_): \(boundary)")
                } else {
                    let rank = input.shape.count
                    XCTAssertEqual(boundary.inputs, [[0, rank - 1] + Array(1..<(rank - 1))], where_)
                }
                let feed = keepIOLayout ? input : try toLayout(input, .channelsFirst)
                let outputs = try ModelRunner(model: reread).run([feed])
                XCTAssertEqual(outputs.count, refs.count, "\(where_) output count")
                for (output, ref) in zip(outputs, refs) {
                    let expected = try NumPyFile.read(ref.path)
                    let back = keepIOLayout ? output : try fromLayout(output, .channelsFirst)
                    assertClose(back, expected, tolerance: halfPrecisionTolerance[name] ?? 1e-5, where_)
                    if back.shape == expected.shape, halfPrecisionTolerance[name] == nil {
                        worst = max(worst, relativeError(back.floats(), expected.floats()))
                    }
                }
                checked += 1
            }
        }
        print("Keras layout write (keep-io \(keepIOLayout)): \(checked) files, worst error \(worst) x max|ref|")
        XCTAssertGreaterThan(checked, 40)
    }

    func testEverySpatialFixtureWrittenChannelsFirstMatchesKeras() throws {
        try checkEveryFixture(keepIOLayout: false)
    }

    func testEverySpatialFixtureWrittenChannelsFirstWithKeptIOLayoutMatchesKeras() throws {
        try checkEveryFixture(keepIOLayout: true)
    }

    func testRoundTripThroughChannelsFirstGivesIdenticalWeights() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for name in ["conv_bn_flatten_dense", "mini_resnet", "layers_zoo", "conv3d_bn", "conv1d_bn"] {
            for (file, _) in files {
                let path = FixturePaths.url("keras/\(name)/\(file)").path
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let original = try Checkpoint.read(path)
                let first = dir.appendingPathComponent("nchw_\(name)_\(file)").path
                let second = dir.appendingPathComponent("nhwc_\(name)_\(file)").path
                try Checkpoint.write(try ConvertLayout(target: .channelsFirst).apply(to: original).model, to: first)
                try Checkpoint.write(try ConvertLayout(target: .channelsLast).apply(to: try Checkpoint.read(first)).model, to: second)
                let back = try Checkpoint.read(second)
                for node in original.nodes {
                    let returned = try XCTUnwrap(back.node(named: node.name), "\(name)/\(file): \(node.name)")
                    XCTAssertEqual(returned.weights.map(\.tensor), node.weights.map(\.tensor), "\(name)/\(file): \(node.name)")
                    XCTAssertEqual(returned.op.layoutForTest, node.op.layoutForTest, "\(name)/\(file): \(node.name)")
                }
                XCTAssertEqual(back.values[back.inputs[0]]?.shape, original.values[original.inputs[0]]?.shape, "\(name)/\(file)")
            }
        }
    }

    /// Every declared shape of a nested model's config (InputLayer batch shapes, the Sequential's
    /// `build_input_shape`, its entry's `build_config.input_shape`), by where it was found.
    private func nestedDeclaredShapes(_ layers: [JSONValue], path: String = "") -> [(place: String, shape: JSONValue)] {
        var found: [(String, JSONValue)] = []
        for layer in layers {
            let name = layer["config"]?["name"]?.stringValue ?? "?"
            guard let inner = layer["config"]?["layers"]?.arrayValue else { continue }
            let here = path + "/" + name
            if let shape = layer["build_config"]?["input_shape"] { found.append((here + " build_config", shape)) }
            if let shape = layer["config"]?["build_input_shape"] { found.append((here + " build_input_shape", shape)) }
            for entry in inner where entry["class_name"]?.stringValue == "InputLayer" {
                for key in ["batch_shape", "batch_input_shape"] {
                    if let shape = entry["config"]?[key] { found.append((here + " InputLayer " + key, shape)) }
                }
            }
            found += nestedDeclaredShapes(inner, path: here)
        }
        return found
    }

    func testNestedSequentialDeclaresItsChannelsFirstInputShape() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for (file, _) in files {
            let path = FixturePaths.url("keras/long_names/\(file)").path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let source = try Checkpoint.read(path)
            let before = nestedDeclaredShapes(try XCTUnwrap((source.source as? KerasModelRecord)?.config?["config"]?["layers"]?.arrayValue))
            XCTAssertFalse(before.isEmpty, "\(file): the fixture's nested Sequential declares its input shape")
            XCTAssertTrue(before.allSatisfy { $0.shape == .array([.null, .integer(8), .integer(8), .integer(4)]) }, "\(file): \(before)")
            for keep in [false, true] {
                let out = dir.appendingPathComponent("\(keep)_\(file)").path
                try Checkpoint.write(try ConvertLayout(target: .channelsFirst, keepIOLayout: keep).apply(to: source).model, to: out)
                let record = try XCTUnwrap(try Checkpoint.read(out).source as? KerasModelRecord)
                let after = nestedDeclaredShapes(try XCTUnwrap(record.config?["config"]?["layers"]?.arrayValue))
                XCTAssertEqual(after.map(\.place), before.map(\.place), file)
                for (place, shape) in after {
                    XCTAssertEqual(shape, .array([.null, .integer(4), .integer(8), .integer(8)]), "\(file) keep-io \(keep): \(place)")
                }
            }
        }
    }

    func testFlattenDenseIsWrittenWithoutPermuteLayers() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for (file, _) in files {
            let model = try Checkpoint.read(FixturePaths.url("keras/conv_bn_flatten_dense/\(file)").path)
            let result = try ConvertLayout(target: .channelsFirst).apply(to: model)
            XCTAssertEqual(result.insertedTransposes, [], file)
            let out = dir.appendingPathComponent(file).path
            try Checkpoint.write(result.model, to: out)
            let record = try XCTUnwrap(try Checkpoint.read(out).source as? KerasModelRecord)
            let text = try XCTUnwrap(record.configText)
            XCTAssertFalse(text.contains("\"Permute\""), file)
            XCTAssertTrue(text.contains("\"channels_first\""), file)
        }
    }

    func testInsertedTransposesBecomePermuteLayersInTheFilesDialect() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for (file, dialect) in [("keras2.h5", KerasDialect.keras2), ("keras3.keras", .keras3)] {
            let model = try Checkpoint.read(FixturePaths.url("keras/conv2d_bias_bn/\(file)").path)
            let result = try ConvertLayout(target: .channelsFirst, keepIOLayout: true).apply(to: model)
            XCTAssertEqual(result.insertedTransposes.count, 2, file)
            let out = dir.appendingPathComponent(file).path
            try Checkpoint.write(result.model, to: out)
            let record = try XCTUnwrap(try Checkpoint.read(out).source as? KerasModelRecord)
            XCTAssertEqual(record.dialect, dialect)
            let layers = try XCTUnwrap(record.config?["config"]?["layers"]?.arrayValue)
            let permutes = layers.filter { $0["class_name"]?.stringValue == "Permute" }
            XCTAssertEqual(permutes.map { $0["config"]?["dims"] }, [.array([3, 1, 2].map(JSONValue.integer)), .array([2, 3, 1].map(JSONValue.integer))], file)
            let bn = try XCTUnwrap(layers.first { $0["class_name"]?.stringValue == "BatchNormalization" })
            XCTAssertEqual(bn["config"]?["axis"], dialect == .keras2 ? .array([.integer(1)]) : .integer(1), file)
            let input = try XCTUnwrap(layers.first { $0["class_name"]?.stringValue == "InputLayer" })
            XCTAssertEqual(input["config"]?[dialect == .keras2 ? "batch_input_shape" : "batch_shape"],
                           .array([.null, .integer(8), .integer(8), .integer(3)]), file)
            let outputs = try XCTUnwrap(record.config?["config"]?["output_layers"])
            XCTAssertEqual(KerasContainer.refs(outputs).map(\.layer), [permutes[1]["name"]?.stringValue], file)
        }
    }

    func testANonTransposeCreatedNodeIsRefused() throws {
        var model = try Checkpoint.read(FixturePaths.url("keras/bn_conv/keras2.h5").path)
        let last = model.outputs[0]
        model.nodes.append(Node(name: "extra", op: .activation(.relu()), inputs: [last], outputs: ["extra"]))
        model.outputs = ["extra"]
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("x.h5").path
        XCTAssertThrowsError(try Checkpoint.write(model, to: out)) { error in
            XCTAssertTrue("\(error)".contains("created by a pass"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}

private extension Op {
    /// The layout an op's attributes carry, if any.
    var layoutForTest: DataLayout? {
        switch self {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): return c.layout
        case .pool(let p): return p.layout
        case .globalPool(let g): return g.layout
        case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): return l
        default: return nil
        }
    }
}
