@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// A file in the shape old Keras + h5py 2 wrote (bare-list Sequential config, no InputLayer,
/// fixed-length NULLPAD `layer_names`/`weight_names`), built here with the HDF5 wrappers since no
/// such Keras is pinned. Facts: docs/formats.md, Strings and Keras config JSON.
final class KerasOldFileTests: XCTestCase {
    private let config = #"{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d1", "batch_input_shape": [null, 3], "units": 2, "activation": "linear", "use_bias": false}}, {"class_name": "BatchNormalization", "config": {"name": "b1", "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true}}]}"#

    private func makeFile(in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("old.h5").path
        let file = try HDF5File.create(path)
        let root = try file.root()
        try root.writeStrings("keras_version", ["2.1.6"], encoding: .variableASCII, scalar: true)
        try root.writeStrings("backend", ["tensorflow"], encoding: .variableASCII, scalar: true)
        try root.writeStrings("model_config", [config], encoding: .variableASCII, scalar: true)
        let weights = try root.createGroup("model_weights")
        try weights.writeStrings("layer_names", ["d1", "b1"], encoding: .fixedASCII(size: 2))
        let d1 = try weights.createGroup("d1")
        try d1.writeStrings("weight_names", ["d1/kernel:0"], encoding: .fixedASCII(size: 11))
        try d1.createDataset("d1/kernel:0", tensor: Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]))
        let b1 = try weights.createGroup("b1")
        let names = ["b1/gamma:0", "b1/beta:0", "b1/moving_mean:0", "b1/moving_variance:0"]
        try b1.writeStrings("weight_names", names, encoding: .fixedASCII(size: 20))
        for (name, values) in zip(names, [[2, 3], [0.5, -1], [1, 2], [4, 0.25]] as [[Float]]) {
            try b1.createDataset(name, tensor: Tensor(shape: [2], floats: values))
        }
        let top = try weights.createGroup("top_level_model_weights")
        try top.writeStrings("weight_names", ["scale:0"], encoding: .variableASCII)
        try top.createDataset("scale:0", tensor: Tensor(shape: [], floats: [7]))
        try file.close()
        return path
    }

    func testReadsBareListSequentialWithFixedLengthNames() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Checkpoint.read(try makeFile(in: dir))
        XCTAssertEqual(model.format, .keras2H5)
        XCTAssertEqual(model.nodes.map(\.name), ["d1_input", "d1", "b1"])
        XCTAssertEqual(model.inputs, ["d1_input"])
        XCTAssertEqual(model.values["d1_input"]?.shape, [nil, 3])
        XCTAssertEqual(model.node(named: "b1")?.weights.map(\.role), [.gamma, .beta, .movingMean, .movingVariance])
        XCTAssertEqual((model.source as? KerasModelRecord)?.topLevelWeights?.map(\.storedName), ["scale:0"])
    }

    func testFoldedOldFileKeepsItsDialectAndTopLevelWeights() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = try Checkpoint.read(try makeFile(in: dir))
        XCTAssertEqual(KerasHandFold.foldAll(&model), ["b1"])
        let out = dir.appendingPathComponent("folded.h5").path
        try Checkpoint.write(model, to: out)
        let back = try Checkpoint.read(out)
        XCTAssertEqual(back.nodes.map(\.name), ["d1_input", "d1"])
        XCTAssertEqual(back.node(named: "d1")?.weights.map(\.tensor), model.node(named: "d1")?.weights.map(\.tensor))
        let record = try XCTUnwrap(back.source as? KerasModelRecord)
        XCTAssertEqual(record.configText,
                       #"{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d1", "batch_input_shape": [null, 3], "units": 2, "activation": "linear", "use_bias": true}}]}"#)
        XCTAssertEqual(record.weightNames["d1"], ["d1/kernel:0", "d1/bias:0"])
        XCTAssertEqual(record.topLevelWeights?.map(\.tensor), [Tensor(shape: [], floats: [7])])
    }
}
