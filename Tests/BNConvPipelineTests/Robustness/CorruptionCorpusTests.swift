@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvPipeline
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Every damaged variant of a valid fixture is refused with a ``CheckpointError`` naming the file,
/// or (when the damage left a valid file) reads, folds and writes without a trap, without a
/// non-finite folded weight, and without leaving a temporary or partial file behind.
/// 200+ seeded variants per format, run through the library in-process. Plain HDF5 files (`.h5`,
/// `.weights.h5`) run through the `bnconv` binary instead (bnconvTests/CorruptionCLITests.swift):
/// libhdf5 1.10 can crash on damaged metadata, which would take the test process down with it.
final class CorruptionCorpusTests: XCTestCase {
    /// Variants per format.
    static let variantCount = 220

    /// What happened to the variants of one format.
    struct Tally: CustomStringConvertible {
        var refused = 0, readOnly = 0, folded = 0, laterError = 0
        var description: String { "refused \(refused), read but not foldable/writable \(laterError), folded and written \(folded)" }
    }

    func testKerasZip() throws {
        try run(fixture: "keras/bn_conv/keras3.keras", name: "model.keras", container: .zip, seed: 12)
    }

    func testKerasConfigJSONOfWeightsFile() throws {
        // The damaged file is the architecture; the weights are intact.
        try run(fixture: "keras/bn_conv/keras3.json", name: "model.json", container: .text, seed: 14,
                weightsFixture: "keras/bn_conv/keras3.weights.h5")
    }

    func testGraphDef() throws {
        try run(fixture: "tensorflow/conv_bias_bn/graph.pb", name: "model.pb", container: .protobuf, seed: 15)
    }

    func testONNX() throws {
        try run(fixture: "onnx/conv_bn/model.onnx", name: "model.onnx", container: .protobuf, seed: 16)
    }

    func testNumPy() throws {
        let original = try [UInt8](Data(contentsOf: FixturePaths.url("npy/f4_1x2x3x4.npy")))
        let variants = CorruptionCorpus(original: original, container: .npy, seed: 17).variants(count: Self.variantCount)
        XCTAssertGreaterThanOrEqual(variants.count, 200)
        let dir = try scratch()
        let path = dir.appendingPathComponent("input.npy").path
        var tally = Tally()
        for v in variants {
            try Data(v.bytes).write(to: URL(fileURLWithPath: path))
            do {
                let t = try NumPyFile.read(path)
                XCTAssertEqual(t.bytes.count, t.count * t.dtype.byteCount, v.label)
                tally.folded += 1
            } catch let e as CheckpointError {
                XCTAssertEqual(e.file, path, v.label)
                XCTAssertTrue(e.description.hasPrefix(path + ": "), "\(v.label): \(e)")
                tally.refused += 1
            }
        }
        print("corruption corpus npy: \(variants.count) variants: \(tally)")
    }

    /// Keras TF-format weights with a damaged object graph (the bundle otherwise intact), and an
    /// intact checkpoint with a damaged architecture: each refused with a ``CheckpointError`` naming
    /// the checkpoint or the config, or read, folded, written as a checkpoint and read back.
    func testKerasCheckpointObjectGraphAndConfig() throws {
        let fixture = FixturePaths.url("tf_checkpoint/keras_weights_nested").path
        let source = try TensorBundle(prefix: fixture + "/weights.ckpt")
        let graphKey = "_CHECKPOINTABLE_OBJECT_GRAPH"
        let graph = try XCTUnwrap(try source.strings(graphKey).first)
        let configText = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture + "/model.json")))
        let dir = try scratch()
        let prefix = dir.appendingPathComponent("weights.ckpt").path, config = dir.appendingPathComponent("model.json").path
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for (kind, container, seed) in [("object graph", CorruptionCorpus.Container.protobuf, UInt64(18)), ("config", .text, 19)] {
            let variants = CorruptionCorpus(original: kind == "config" ? configText : graph, container: container, seed: seed)
                .variants(count: Self.variantCount)
            XCTAssertGreaterThanOrEqual(variants.count, 200)
            var tally = Tally()
            for v in variants {
                let items = source.keysInStorageOrder.map { key in
                    TensorBundleItem(key: key, content: key == graphKey && kind != "config" ? .strings([v.bytes], shape: []) : .copied(from: source, key: key))
                }
                try TensorBundleWriter.write(prefix: prefix, items: items)
                try Data(kind == "config" ? v.bytes : configText).write(to: URL(fileURLWithPath: config))
                for leftover in try FileManager.default.contentsOfDirectory(atPath: out.path) {
                    try FileManager.default.removeItem(atPath: out.appendingPathComponent(leftover).path)
                }
                let model: Model
                do {
                    model = try Checkpoint.read(prefix, config: config)
                } catch let e as CheckpointError {
                    XCTAssertTrue(e.file == prefix || e.file == config, "\(kind) \(v.label): \(e) names \(e.file)")
                    XCTAssertFalse(e.description.contains("\n"), "\(kind) \(v.label): several lines: \(e)")
                    tally.refused += 1
                    continue
                } catch {
                    XCTFail("\(kind) \(v.label): \(type(of: error)) instead of a CheckpointError: \(error)")
                    continue
                }
                do {
                    let folded = try FoldBatchNorm().apply(to: model)
                    let target = out.appendingPathComponent("folded.ckpt").path
                    try Checkpoint.write(folded.model, to: target)
                    let architecture = out.appendingPathComponent("folded.json").path
                    let back = try Checkpoint.read(target, config: FileManager.default.fileExists(atPath: architecture) ? architecture : config)
                    XCTAssertEqual(back.nodes.count, folded.model.nodes.count, v.label)
                    tally.folded += 1
                } catch {
                    XCTAssertFalse("\(error)".isEmpty, v.label)
                    tally.laterError += 1
                }
                let stray = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".tmp") }
                XCTAssertEqual(stray, [], "\(v.label): temporary files left")
            }
            print("corruption corpus Keras checkpoint \(kind): \(variants.count) variants: \(tally)")
        }
    }

    // MARK: Driver

    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Runs every variant of `fixture` (saved as `name`) through read, fold, write and read back.
    /// `config` pairs an intact architecture with damaged weights; `weightsFixture` pairs intact
    /// weights with a damaged architecture (the variant is then the config).
    private func run(fixture: String, name: String, container: CorruptionCorpus.Container, seed: UInt64,
                     config: String? = nil, weightsFixture: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let original = try [UInt8](Data(contentsOf: FixturePaths.url(fixture)))
        let variants = CorruptionCorpus(original: original, container: container, seed: seed).variants(count: Self.variantCount)
        XCTAssertGreaterThanOrEqual(variants.count, 200, file: file, line: line)
        let dir = try scratch()
        let variantPath = dir.appendingPathComponent(name).path
        var inputPath = variantPath, configPath: String?
        if let config {
            configPath = dir.appendingPathComponent("arch.json").path
            try FileManager.default.copyItem(atPath: FixturePaths.url(config).path, toPath: configPath!)
        }
        if let weightsFixture {
            inputPath = dir.appendingPathComponent("model.weights.h5").path
            configPath = variantPath
            try FileManager.default.copyItem(atPath: FixturePaths.url(weightsFixture).path, toPath: inputPath)
        }
        let outDir = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let ext = name.hasSuffix(".weights.h5") || weightsFixture != nil ? "weights.h5" : (name as NSString).pathExtension
        let outPath = outDir.appendingPathComponent("folded.\(ext)").path
        let outConfig = outDir.appendingPathComponent("folded.json").path
        var tally = Tally()
        for v in variants {
            try Data(v.bytes).write(to: URL(fileURLWithPath: variantPath))
            for leftover in try FileManager.default.contentsOfDirectory(atPath: outDir.path) {
                try FileManager.default.removeItem(atPath: outDir.appendingPathComponent(leftover).path)
            }
            let started = Date()
            let model: Model
            do {
                model = try Checkpoint.read(inputPath, config: configPath)
            } catch let e as CheckpointError {
                XCTAssertTrue(e.file == inputPath || e.file == configPath, "\(v.label): \(e) names \(e.file)", file: file, line: line)
                XCTAssertTrue(e.description.hasPrefix(e.file + ": "), "\(v.label): \(e)", file: file, line: line)
                XCTAssertFalse(e.description.contains("\n"), "\(v.label): several lines: \(e)", file: file, line: line)
                tally.refused += 1
                continue
            } catch {
                XCTFail("\(v.label): \(type(of: error)) instead of a CheckpointError: \(error)", file: file, line: line)
                continue
            }
            do {
                let folded = try FoldBatchNorm().apply(to: model)
                for node in folded.model.nodes {
                    for w in node.weights where w.isModified && w.tensor.dtype.isFloatingPoint {
                        XCTAssertTrue(w.tensor.doubles().allSatisfy(\.isFinite),
                                      "\(v.label): folded \(node.name)/\(w.role) holds non-finite values", file: file, line: line)
                    }
                }
                try Checkpoint.write(folded.model, to: outPath, config: model.format.isWeightsOnly ? outConfig : nil)
                let back = try Checkpoint.read(outPath, config: model.format.isWeightsOnly
                                               ? (FileManager.default.fileExists(atPath: outConfig) ? outConfig : configPath) : nil)
                XCTAssertEqual(back.nodes.count, folded.model.nodes.count, v.label, file: file, line: line)
                tally.folded += 1
            } catch {
                XCTAssertFalse("\(error)".isEmpty, v.label, file: file, line: line)
                tally.laterError += 1
            }
            let stray = try FileManager.default.contentsOfDirectory(atPath: outDir.path).filter { $0.hasSuffix(".tmp") }
            XCTAssertEqual(stray, [], "\(v.label): temporary files left", file: file, line: line)
            XCTAssertLessThan(Date().timeIntervalSince(started), 20, "\(v.label): too slow", file: file, line: line)
        }
        XCTAssertEqual(try [UInt8](Data(contentsOf: FixturePaths.url(fixture))), original, "the fixture itself changed", file: file, line: line)
        print("corruption corpus \(name): \(variants.count) variants: \(tally)")
    }
}
