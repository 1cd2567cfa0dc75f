import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Bad files give one clear CheckpointError naming the file, never a crash, and nothing is written.
final class ONNXBadInputTests: XCTestCase {
    private func assertRefused(_ bytes: [UInt8], kind: CheckpointError.Kind = .malformed, contains text: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXReader.read(bytes: bytes, file: "bad.onnx"), file: file, line: line) { error in
            guard let e = error as? CheckpointError else {
                return XCTFail("not a CheckpointError: \(error)", file: file, line: line)
            }
            XCTAssertEqual(e.kind, kind, file: file, line: line)
            XCTAssertEqual(e.file, "bad.onnx", file: file, line: line)
            XCTAssertTrue(e.description.contains(text), "'\(e.description)' lacks '\(text)'", file: file, line: line)
        }
    }

    func testTruncatedFilesAreRefusedAtEveryLength() throws {
        let bytes = try ONNXFixtures.modelBytes("small_cnn")
        for length in stride(from: 1, to: bytes.count, by: 7) {
            XCTAssertThrowsError(try ONNXReader.read(bytes: Array(bytes[..<length]), file: "t.onnx"), "length \(length)") { error in
                XCTAssertNotNil(error as? CheckpointError, "length \(length): \(error)")
            }
        }
    }

    func testTruncatedFileNamesTheField() throws {
        let bytes = try ONNXFixtures.modelBytes("conv_bn")
        assertRefused(Array(bytes.dropLast(10)), contains: "declares")
    }

    func testRandomBytesNeverCrash() {
        var state: UInt64 = 0x1234_5678
        for trial in 0..<200 {
            let bytes = (0..<(16 + trial * 3)).map { _ -> UInt8 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
            XCTAssertThrowsError(try ONNXReader.read(bytes: bytes, file: "r.onnx"), "trial \(trial)") { error in
                XCTAssertNotNil(error as? CheckpointError, "trial \(trial): \(error)")
            }
        }
    }

    func testHugeLengthPrefix() {
        // graph (field 7) claiming 2^62 bytes.
        assertRefused([0x08, 0x07, 0x3A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00],
                      contains: "field 7 at byte 2 declares 4611686018427387904 bytes but only 1 remain")
    }

    func testEmptyFile() {
        assertRefused([], contains: "the file is empty")
    }

    func testMissingFile() {
        XCTAssertThrowsError(try ONNXReader.read("/nonexistent/dir/model.onnx")) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .cannotOpen)
            XCTAssertEqual((error as? CheckpointError)?.file, "/nonexistent/dir/model.onnx")
        }
    }

    func testGraphOutOfTopologicalOrderIsMalformed() throws {
        // conv_bn with its two nodes swapped (BN first) through the protobuf-c edit path.
        let message = try ONNXModelMessage(bytes: try ONNXFixtures.modelBytes("conv_bn"), file: "swapped.onnx")
        let proto = try message.snapshot()
        message.apply(ONNXGraphEdit(
            nodes: [1, 0].map { .original(index: $0, inputs: proto.nodes[$0].inputs, outputs: proto.nodes[$0].outputs) },
            initializers: proto.initializers.indices.map { .original(index: $0) },
            inputs: Array(proto.inputs.indices), outputs: proto.outputs.enumerated().map { ($0.offset, $0.element.name) },
            valueInfos: Array(proto.valueInfos.indices)))
        assertRefused(try message.serialized(), contains: "node 'bn' reads 'conv_out', which only the later node 'conv' writes")
    }

    func testWriterRefusesAGraphWithADanglingInput() throws {
        var model = try ONNXFixtures.read("conv_bn")
        model.nodes.swapAt(1, 2)
        XCTAssertThrowsError(try ONNXWriter.serialize(model, file: "out.onnx")) { error in
            XCTAssertEqual((error as? CheckpointError)?.description,
                           "out.onnx: value 'conv_out': a node reads it but nothing in the written graph defines it")
        }
    }

    func testFailedWriteLeavesNothingBehind() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var model = try ONNXFixtures.read("conv_bn")
        model.nodes.append(Node(name: "new", op: .identity, inputs: ["bn_out"], outputs: ["extra"]))
        let target = dir.appendingPathComponent("out.onnx").path
        XCTAssertThrowsError(try ONNXWriter.write(model, to: target)) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .unsupported)
            XCTAssertEqual((error as? CheckpointError)?.place, "node 'new'")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testWritingAModelNotReadFromONNXIsRefused() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let model = Model(name: "m", format: .keras2H5, inputs: [], outputs: [], nodes: [], values: [:])
        XCTAssertThrowsError(try ONNXWriter.write(model, to: dir.appendingPathComponent("m.onnx").path)) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .unsupported)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testWriteIntoMissingDirectoryFailsCleanly() throws {
        let model = try ONNXFixtures.read("conv_bn")
        XCTAssertThrowsError(try ONNXWriter.write(model, to: "/nonexistent/dir/out.onnx")) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .writeFailed)
        }
    }

    /// Valid models with a few bytes changed reach the mapper and the writer with odd attributes,
    /// counts and names: every outcome must be a model or a CheckpointError, never a crash.
    func testMutatedModelsNeverCrash() throws {
        var state: UInt64 = 0x9E37_79B9
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var readable = 0
        for name in ["small_cnn", "ops_zoo", "constant_nodes", "conv_transpose_bn"] {
            let original = try ONNXFixtures.modelBytes(name)
            for _ in 0..<150 {
                var bytes = original
                for _ in 0..<(1 + next(3)) { bytes[next(bytes.count)] = UInt8(next(256)) }
                do {
                    let model = try ONNXReader.read(bytes: bytes, file: "m.onnx")
                    readable += 1
                    if let folded = try? FoldBatchNorm().apply(to: model) {
                        _ = try? ONNXWriter.serialize(folded.model, file: "m.onnx")
                    }
                    _ = try? ONNXWriter.serialize(model, file: "m.onnx")
                } catch {
                    XCTAssertNotNil(error as? CheckpointError, "\(name): \(error)")
                }
            }
        }
        XCTAssertGreaterThan(readable, 0, "no mutation produced a readable model: the test exercises nothing past parsing")
    }
}
