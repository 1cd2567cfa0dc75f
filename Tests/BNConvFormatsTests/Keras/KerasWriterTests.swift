@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Writing a Keras model back: unchanged round trips, and a hand-made fold (BN removed, bias added).
final class KerasWriterTests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Every fixture file, read and written unchanged, reads back to the same Model with the same
    /// config text, dataset bytes, storage paths and creation properties.
    func testUnchangedRoundTripIsIdentical() throws {
        let cases = try KerasFixtureCase.all()
        try XCTSkipIf(cases.isEmpty, "no Keras fixtures committed yet")
        let dir = try scratch()
        for fixture in cases {
            for key in ["keras2", "keras3"] {
                for (path, config) in fixture.checkpoints(key) {
                    let name = (path as NSString).lastPathComponent
                    let label = "\(fixture.name)/\(name)"
                    let model = try Checkpoint.read(path, config: config)
                    let out = dir.appendingPathComponent("\(fixture.name)-\(name)").path
                    do { try Checkpoint.write(model, to: out) } catch { XCTFail("\(label): \(error)"); continue }
                    let back = try Checkpoint.read(out, config: config)
                    assertSameModel(back, model, label)
                    let a = try XCTUnwrap(model.source as? KerasModelRecord), b = try XCTUnwrap(back.source as? KerasModelRecord)
                    XCTAssertEqual(b.configText, a.configText, "\(label): config text")
                    XCTAssertEqual(b.creation, a.creation, "\(label): creation properties")
                    XCTAssertEqual(b.layerNames, a.layerNames, "\(label): layer_names")
                    XCTAssertEqual(b.weightNames, a.weightNames, "\(label): weight_names")
                    XCTAssertEqual(b.storeNames, a.storeNames, "\(label): store names")
                    XCTAssertEqual(b.archiveMembers.map(\.path), a.archiveMembers.map(\.path), "\(label): zip members")
                    XCTAssertEqual(b.archiveMembers.map(\.data), a.archiveMembers.map(\.data), "\(label): zip member bytes")
                    XCTAssertEqual(b.rootAttributes.map(\.name), a.rootAttributes.map(\.name), "\(label): root attributes")
                    XCTAssertEqual(b.rootAttributes.map(\.value), a.rootAttributes.map(\.value), "\(label): root attribute values")
                }
            }
        }
    }

    /// A BN folded by hand (removed, bias added) writes a file whose structure says so: no BN layer,
    /// a bias on the producer, `use_bias: true`, and the same numbers in every other weight.
    /// With BNCONV_KERAS_WRITE_DIR set, the files are kept there for tools/interop/check_keras_load.py.
    func testFoldedModelWritesWithoutTheBatchNorms() throws {
        let cases = try KerasFixtureCase.all()
        try XCTSkipIf(cases.isEmpty, "no Keras fixtures committed yet")
        let keep = ProcessInfo.processInfo.environment["BNCONV_KERAS_WRITE_DIR"].map { URL(fileURLWithPath: $0) }
        let dir = try keep ?? scratch()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var foldedAny = false
        for fixture in cases {
            for key in ["keras2", "keras3"] {
                for (path, config) in fixture.checkpoints(key) {
                    let name = (path as NSString).lastPathComponent
                    let label = "\(fixture.name)/\(name)"
                    var model = try Checkpoint.read(path, config: config)
                    let folded = KerasHandFold.foldAll(&model)
                    if folded.isEmpty { continue }
                    foldedAny = true
                    let out = dir.appendingPathComponent("\(fixture.name)__\(name)").path
                    let newConfig = config.map { _ in out + ".json" }
                    do { try Checkpoint.write(model, to: out, config: newConfig) } catch { XCTFail("\(label): \(error)"); continue }
                    let back: Model
                    do { back = try Checkpoint.read(out, config: newConfig) } catch { XCTFail("\(label): reading back: \(error)"); continue }
                    for bn in folded { XCTAssertNil(back.node(named: bn), "\(label): \(bn) still there") }
                    XCTAssertEqual(back.nodes.count, model.nodes.count, "\(label): node count")
                    for (x, y) in zip(model.nodes, back.nodes) {
                        XCTAssertEqual(y.op, x.op, "\(label) \(x.name): op (use_bias)")
                        XCTAssertEqual(y.inputs, x.inputs, "\(label) \(x.name): inputs")
                        XCTAssertEqual(y.weights.map(\.tensor), x.weights.map(\.tensor), "\(label) \(x.name): weights")
                    }
                }
            }
        }
        XCTAssertTrue(foldedAny)
    }

    /// The real fold pass's edits (into producers and into unpadded consumers) write files that read
    /// back to the folded model. With BNCONV_KERAS_WRITE_DIR set, the files are kept (`<case>__pass__<file>`).
    func testFoldPassOutputWritesAndReadsBack() throws {
        let cases = try KerasFixtureCase.all()
        try XCTSkipIf(cases.isEmpty, "no Keras fixtures committed yet")
        let keep = ProcessInfo.processInfo.environment["BNCONV_KERAS_WRITE_DIR"].map { URL(fileURLWithPath: $0) }
        let dir = try keep ?? scratch()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for fixture in cases {
            for key in ["keras2", "keras3"] {
                for (path, config) in fixture.checkpoints(key) {
                    let name = (path as NSString).lastPathComponent
                    let label = "\(fixture.name)/\(name)"
                    let model = try Checkpoint.read(path, config: config)
                    let result = try FoldBatchNorm().apply(to: model)
                    if !result.decisions.contains(where: \.folds) { continue }
                    let out = dir.appendingPathComponent("\(fixture.name)__pass__\(name)").path
                    let newConfig = config.map { _ in out + ".json" }
                    do { try Checkpoint.write(result.model, to: out, config: newConfig) } catch { XCTFail("\(label): \(error)"); continue }
                    let back = try Checkpoint.read(out, config: newConfig)
                    XCTAssertEqual(back.nodes.map(\.name), result.model.nodes.map(\.name), "\(label): nodes")
                    for (x, y) in zip(result.model.nodes, back.nodes) {
                        XCTAssertEqual(y.op, x.op, "\(label) \(x.name): op")
                        XCTAssertEqual(y.inputs, x.inputs, "\(label) \(x.name): inputs")
                        XCTAssertEqual(y.weights.map(\.tensor), x.weights.map(\.tensor), "\(label) \(x.name): weights")
                    }
                }
            }
        }
    }

    func testNothingIsLeftBehindWhenWritingFails() throws {
        let path = FixturePaths.url("keras/conv2d_bias_bn/keras2.h5").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
        var model = try Checkpoint.read(path)
        model.nodes.append(Node(name: "stray", op: .identity, inputs: ["nowhere"], outputs: ["x"]))
        let dir = try scratch()
        let out = dir.appendingPathComponent("out.h5").path
        XCTAssertThrowsError(try Checkpoint.write(model, to: out)) { error in
            XCTAssertTrue("\(error)".hasPrefix(out + ": "), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    private func assertSameModel(_ a: Model, _ b: Model, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.format, b.format, "\(label): format", file: file, line: line)
        XCTAssertEqual(a.inputs, b.inputs, "\(label): inputs", file: file, line: line)
        XCTAssertEqual(a.outputs, b.outputs, "\(label): outputs", file: file, line: line)
        XCTAssertEqual(a.nodes.map(\.name), b.nodes.map(\.name), "\(label): nodes", file: file, line: line)
        XCTAssertEqual(a.values, b.values, "\(label): values", file: file, line: line)
        for (x, y) in zip(a.nodes, b.nodes) {
            XCTAssertEqual(x.op, y.op, "\(label) \(x.name): op", file: file, line: line)
            XCTAssertEqual(x.inputs, y.inputs, "\(label) \(x.name): inputs", file: file, line: line)
            XCTAssertEqual(x.weights, y.weights, "\(label) \(x.name): weights (bytes, shapes, dtypes, paths)", file: file, line: line)
        }
    }
}
