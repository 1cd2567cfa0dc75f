@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvPipeline
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Legacy Keras `.h5` files read with deferred weights (``KerasDatasetSource``): the same model as
/// an eager read, and a fold written from it is the file an eager fold writes, with untouched
/// datasets copied as stored (layout, filters, attributes).
final class KerasDatasetSourceTests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Every legacy `.h5` checkpoint of the fixtures (full, weights-only, Keras 3 legacy).
    private func legacyCheckpoints() throws -> [(label: String, path: String, config: String?)] {
        var found: [(String, String, String?)] = []
        for fixture in try KerasFixtureCase.all() {
            for key in ["keras2", "keras3"] {
                for (path, config) in fixture.checkpoints(key) where path.hasSuffix(".h5") && !path.hasSuffix(".weights.h5") {
                    found.append(("\(fixture.name)/\((path as NSString).lastPathComponent)", path, config))
                }
            }
        }
        return found
    }

    func testADeferredReadIsTheEagerModel() throws {
        let files = try legacyCheckpoints()
        try XCTSkipIf(files.isEmpty, "no Keras fixtures committed yet")
        for (label, path, config) in files {
            let eager = try Checkpoint.read(path, config: config)
            let deferred = try KerasReader.readHDF5(path, configPath: config, deferringFrom: 0)
            XCTAssertEqual(deferred.nodes.map(\.name), eager.nodes.map(\.name), label)
            // The file's datasets (a TFOpLambda's constants are in the config, read at once).
            let weights = deferred.nodes.flatMap(KerasLayerRecord.storedWeights(of:))
            XCTAssertFalse(weights.isEmpty, label)
            XCTAssertTrue(weights.allSatisfy { $0.tensor.source is KerasDatasetSource }, "\(label): every dataset deferred")
            XCTAssertTrue(deferred.hasDeferredWeights, label)
            let loaded = try deferred.withLoadedWeights()
            XCTAssertFalse(loaded.hasDeferredWeights, label)
            for ((x, y), z) in zip(zip(eager.nodes, deferred.nodes), loaded.nodes) {
                XCTAssertEqual(y.op, x.op, "\(label) \(x.name)")
                let stored = KerasLayerRecord.storedWeights(of: y)
                if !stored.isEmpty { XCTAssertNotEqual(stored, KerasLayerRecord.storedWeights(of: x), "\(label) \(x.name): a deferred weight is not compared by loading it") }
                if stored.isEmpty { XCTAssertEqual(y.weights, x.weights, "\(label) \(x.name): config constants are read at once") }
                XCTAssertEqual(z.weights, x.weights, "\(label) \(x.name): weights read on demand equal the eager ones")
                for (a, b) in zip(x.weights, y.weights) {
                    XCTAssertEqual(try b.tensor.withUnsafeBytes { Array($0) }, a.tensor.bytes, "\(label) \(x.name): lent bytes")
                }
            }
            // Keras writes contiguous, unfiltered little-endian datasets: lent from a mapping.
            let mapped = weights.filter { ($0.tensor.source as? KerasDatasetSource)?.raw != nil }
            XCTAssertEqual(mapped.count, weights.filter { $0.tensor.count > 0 }.count, "\(label): mapped datasets")
        }
    }

    func testTheDefaultThresholdLeavesSmallWeightsInMemory() throws {
        let path = FixturePaths.url("keras/conv2d_bias_bn/keras2.h5").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
        let model = try Checkpoint.read(path, deferringWeights: WriteStrategy.defaultDeferredMinimumBytes)
        let weights = model.nodes.flatMap(\.weights)
        XCTAssertFalse(weights.isEmpty)
        for weight in weights {
            let bytes = weight.tensor.count * weight.tensor.dtype.byteCount
            XCTAssertEqual(weight.tensor.isDeferred, bytes >= WriteStrategy.defaultDeferredMinimumBytes, weight.storageKey)
        }
    }

    func testADeferredFoldWritesTheFileAnEagerFoldWrites() throws {
        let files = try legacyCheckpoints()
        try XCTSkipIf(files.isEmpty, "no Keras fixtures committed yet")
        let dir = try scratch()
        var folded = 0
        for (index, (label, path, config)) in files.enumerated() {
            let eager = try FoldBatchNorm().apply(to: try Checkpoint.read(path, config: config))
            let lazy = try FoldBatchNorm().apply(to: try KerasReader.readHDF5(path, configPath: config, deferringFrom: 0))
            XCTAssertEqual(lazy.decisions, eager.decisions, label)
            guard eager.changed else { continue }
            folded += 1
            // A kernel scaled on its output channels stays deferred until written (folding into
            // a consumer's input channels reads the kernel for the bias, and keeps it).
            for decision in lazy.decisions where decision.direction == .intoProducer {
                let target = try XCTUnwrap(lazy.model.node(named: decision.target ?? ""), label)
                let kernel = try XCTUnwrap(target.weight(.pointwiseKernel) ?? target.weight(.kernel), label)
                XCTAssertTrue(kernel.isModified && kernel.tensor.source is MappedTensorSource, "\(label) \(target.name): kernel deferred")
            }
            let a = dir.appendingPathComponent("\(index)-eager.h5").path, b = dir.appendingPathComponent("\(index)-lazy.h5").path
            let configA = config.map { _ in a + ".json" }, configB = config.map { _ in b + ".json" }
            try Checkpoint.write(eager.model, to: a, config: configA)
            try Checkpoint.write(lazy.model, to: b, config: configB)
            let x = try Checkpoint.read(a, config: configA), y = try Checkpoint.read(b, config: configB)
            XCTAssertEqual(y.nodes.map(\.name), x.nodes.map(\.name), label)
            for (p, q) in zip(x.nodes, y.nodes) {
                XCTAssertEqual(q.op, p.op, "\(label) \(p.name)")
                XCTAssertEqual(q.weights, p.weights, "\(label) \(p.name): weights, dtypes and storage paths")
            }
            let rx = try XCTUnwrap(x.source as? KerasModelRecord), ry = try XCTUnwrap(y.source as? KerasModelRecord)
            XCTAssertEqual(ry.configText, rx.configText, "\(label): config")
            XCTAssertEqual(ry.creation, rx.creation, "\(label): creation properties")
            XCTAssertEqual(ry.layerNames, rx.layerNames, "\(label): layer_names")
            XCTAssertEqual(ry.weightNames, rx.weightNames, "\(label): weight_names")
            XCTAssertEqual(ry.rootAttributes.map(\.value), rx.rootAttributes.map(\.value), "\(label): root attributes")
            let sizes = try [path, b].map { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: $0)[.size] as? NSNumber).intValue }
            XCTAssertLessThanOrEqual(sizes[1], sizes[0], "\(label): the folded file is not larger")
        }
        XCTAssertGreaterThan(folded, 0)
    }

    func testUntouchedDatasetsAreCopiedWithTheirLayoutFiltersAndAttributes() throws {
        let fixture = FixturePaths.url("keras/conv_bn_flatten_dense/keras2.h5").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: fixture))
        let dir = try scratch()
        // The fixture rewritten with every dataset chunked and deflated.
        var model = try Checkpoint.read(fixture)
        var record = try XCTUnwrap(model.source as? KerasModelRecord)
        let compressed = HDF5DatasetCreation(layout: .chunked([1024]), filters: [.init(id: 1, flags: 0, values: [5])])
        for key in record.creation.keys { record.creation[key] = compressed }
        model.source = record
        let input = dir.appendingPathComponent("compressed.h5").path
        try Checkpoint.write(model, to: input)

        // Which kernels the fold leaves alone and which it rewrites (the model, and with it the
        // open file, is let go before the file is opened for writing).
        let (untouchedKey, foldedKey): (String, String) = try {
            let result = try FoldBatchNorm().apply(to: try KerasReader.readHDF5(input, configPath: nil, deferringFrom: 0))
            XCTAssertTrue(result.changed)
            let weights = result.model.nodes.flatMap(\.weights)
            let untouched = try XCTUnwrap(weights.first { !$0.isModified && $0.role == .kernel }, "an unfolded layer")
            let folded = try XCTUnwrap(weights.first { $0.isModified && $0.role == .kernel })
            return (untouched.storageKey, folded.storageKey)
        }()
        do {
            let file = try HDF5File.open(input, writable: true)
            try file.root().dataset(untouchedKey).writeStrings("note", ["kept as stored"], encoding: .variableUTF8, scalar: true)
            try file.close()
        }
        let output = dir.appendingPathComponent("folded.h5").path
        let result = try FoldBatchNorm().apply(to: try KerasReader.readHDF5(input, configPath: nil, deferringFrom: 0))
        XCTAssertTrue(result.model.nodes.flatMap(\.weights).allSatisfy { ($0.tensor.source as? KerasDatasetSource)?.raw == nil },
                      "chunked, deflated datasets are read through HDF5, never mapped")
        let folded = try XCTUnwrap(result.model.nodes.flatMap(\.weights).first { $0.storageKey == foldedKey })
        try Checkpoint.write(result.model, to: output)
        let stored = try HDF5File.open(input).root().dataset(untouchedKey)

        let root = try HDF5File.open(output).root()
        let copy = try root.dataset(untouchedKey)
        XCTAssertEqual(try copy.stringAttribute("note"), "kept as stored", "attributes copied")
        XCTAssertEqual(try copy.creation(), try stored.creation(), "layout and filters copied")
        XCTAssertEqual(try copy.readTensor(), try stored.readTensor(), "values copied bit for bit")
        let rewritten = try root.dataset(foldedKey)
        XCTAssertEqual(try rewritten.creation().filters, compressed.filters, "a folded kernel keeps its filters")
        XCTAssertEqual(try rewritten.readTensor(), try folded.tensor.materialized())
    }

    func testANonFiniteDeferredKernelKeepsItsBatchNorm() throws {
        let dir = try scratch()
        let input = dir.appendingPathComponent("inf.h5").path
        let (layer, last) = try writeConvBNFixture(to: input) { $0[$0.count - 1] = .infinity }

        let deferred = try KerasReader.readHDF5(input, configPath: nil, deferringFrom: 0)
        XCTAssertTrue(try XCTUnwrap(deferred.node(named: layer)?.weight(.kernel)).tensor.isDeferred)
        let result = try FoldBatchNorm().apply(to: deferred)
        let decision = try XCTUnwrap(result.decisions.first)
        XCTAssertFalse(decision.folds)
        XCTAssertEqual(decision.reason, "\(layer)'s kernel holds NaN or infinite values (first at element \(last - 1))")
    }

    /// Writes the conv2d_bias_bn fixture to `path` with its conv kernel's values changed by
    /// `edit`; returns the conv layer's name and the kernel's element count.
    private func writeConvBNFixture(to path: String, _ edit: (inout [Float]) -> Void) throws -> (layer: String, count: Int) {
        let fixture = FixturePaths.url("keras/conv2d_bias_bn/keras2.h5").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: fixture))
        var model = try Checkpoint.read(fixture)
        let index = try XCTUnwrap(model.nodes.firstIndex { $0.weight(.kernel) != nil })
        var kernel = try XCTUnwrap(model.nodes[index].weight(.kernel))
        var values = kernel.tensor.floats()
        edit(&values)
        kernel.tensor = Tensor(shape: kernel.tensor.shape, floats: values)
        kernel.isModified = true
        model.nodes[index].setWeight(kernel)
        try Checkpoint.write(model, to: path)
        return (model.nodes[index].name, values.count)
    }

    /// With the check left to the writer, the planner folds the kernel without reading it, and
    /// writing the fold stops at the infinity, before anything is in place.
    func testANonFiniteKernelCheckedWhenWrittenStopsTheWrite() throws {
        let dir = try scratch()
        let input = dir.appendingPathComponent("nan.h5").path
        let (layer, _) = try writeConvBNFixture(to: input) { $0[3] = .nan }

        let output = dir.appendingPathComponent("folded.h5").path
        try {
            let result = try FoldBatchNorm(keep: [], checksDeferredKernelsWhenWritten: true)
                .apply(to: try KerasReader.readHDF5(input, configPath: nil, deferringFrom: 0))
            XCTAssertTrue(try XCTUnwrap(result.decisions.first).folds, "planned without reading the kernel")
            XCTAssertThrowsError(try Checkpoint.write(result.model, to: output)) { error in
                guard case let FoldError.nonFiniteKernel(node, role, at) = error else { return XCTFail("\(error)") }
                XCTAssertEqual([node, role, "\(at)"], [layer, "kernel", "3"])
            }
        }()
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["nan.h5"], "no temporary file left")

        // The same fold planned with the check made first keeps the BN and says why.
        let checked = try FoldBatchNorm().apply(to: try KerasReader.readHDF5(input, configPath: nil, deferringFrom: 0))
        XCTAssertEqual(checked.decisions.first?.reason, "\(layer)'s kernel holds NaN or infinite values (first at element 3)")
    }
}
