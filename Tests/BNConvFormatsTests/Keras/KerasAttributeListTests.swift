@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

final class KerasAttributeListTests: XCTestCase {
    func testChunkCountFollowsKerasRule() {
        // 201 names of 405 chars: np.array_split into 2 pieces of 101 and 100 (observed; docs/formats.md, Chunked attributes).
        XCTAssertEqual(KerasAttributeList.chunkCount(Array(repeating: String(repeating: "a", count: 405), count: 201)), 2)
        XCTAssertEqual(KerasAttributeList.chunkCount(["conv", "bn"]), 1)
        XCTAssertEqual(KerasAttributeList.chunkCount(Array(repeating: "x", count: 64512)), 1)
        XCTAssertEqual(KerasAttributeList.chunkCount(Array(repeating: "x", count: 64513)), 2)
        XCTAssertNil(KerasAttributeList.chunkCount([String(repeating: "y", count: 64513)]))
    }

    func testWriteThenReadChunkedAndPlainLists() throws {
        let (h5, path) = try HDF5TestSupport.scratchFile(self)
        let root = try h5.root()
        let long = (0..<201).map { "\($0)_" + String(repeating: "n", count: 400) }
        try KerasAttributeList.write("layer_names", long, on: root)
        try KerasAttributeList.write("weight_names", ["a/kernel:0", "a/bias:0"], on: root)
        try KerasAttributeList.write("empty", [], on: root)
        try h5.close()
        let back = try HDF5File.open(path).root()
        XCTAssertEqual(try back.attributeNames(), ["empty", "layer_names0", "layer_names1", "weight_names"])
        XCTAssertEqual(try back.attribute("layer_names0").shape(), [101])
        XCTAssertEqual(try back.attribute("layer_names1").shape(), [100])
        XCTAssertEqual(try back.attribute("layer_names0").stringEncoding(), .fixedASCII(size: 404))
        XCTAssertEqual(try KerasAttributeList.read("layer_names", of: back), long)
        XCTAssertEqual(try back.attribute("weight_names").stringEncoding(), .variableASCII)
        XCTAssertEqual(try KerasAttributeList.read("weight_names", of: back), ["a/kernel:0", "a/bias:0"])
        XCTAssertEqual(try KerasAttributeList.read("empty", of: back), [])
        XCTAssertNil(try KerasAttributeList.read("missing", of: back))
    }

    /// The long_names fixture holds Keras's own chunked attributes; writing the same list reproduces them.
    func testChunkingMatchesWhatKerasWrote() throws {
        let path = FixturePaths.url("keras/long_names/keras2.h5").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "long_names fixture not committed yet")
        let weights = try HDF5File.open(path).root().group("model_weights")
        let names = try XCTUnwrap(try KerasAttributeList.read("layer_names", of: weights))
        let chunks = try weights.attributeNames().filter { $0.hasPrefix("layer_names") }
        XCTAssertEqual(KerasAttributeList.chunkCount(names), max(chunks.count, 1))
        if chunks.count > 1 {
            let encoding = try weights.attribute("layer_names0").stringEncoding()
            XCTAssertEqual(encoding, .fixedASCII(size: names.map(\.utf8.count).max()!))
        }
    }
}
