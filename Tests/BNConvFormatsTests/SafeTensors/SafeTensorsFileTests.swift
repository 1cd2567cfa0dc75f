@testable import BNConvCore
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

/// The safetensors container: round trip of names, shapes, dtypes and bytes; header layout; refusals.
final class SafeTensorsFileTests: XCTestCase {
    private func sample() throws -> SafeTensorsFile {
        SafeTensorsFile(entries: [
            .init(name: "conv.weight", tensor: Tensor(shape: [2, 1, 3], floats: [1, -2, 3, 4.5, 5, -6])),
            .init(name: "bn.num_batches_tracked", tensor: Tensor(shape: [], doubles: [0], dtype: .int64)),
            .init(name: "half", tensor: Tensor(shape: [3], doubles: [0.5, -1, 2], dtype: .float16)),
            .init(name: "bf", tensor: Tensor(shape: [1, 2], doubles: [1.5, 3], dtype: .bfloat16)),
        ], metadata: ["format": "pt"])
    }

    func testRoundTripKeepsNamesShapesDtypesAndBytes() throws {
        let file = try sample()
        let bytes = try file.serialized()
        let back = try SafeTensorsFile.parse(bytes, file: "x.safetensors")
        XCTAssertEqual(back.entries.map(\.name), file.entries.map(\.name))
        for (a, b) in zip(back.entries, file.entries) {
            XCTAssertEqual(a.tensor.shape, b.tensor.shape, a.name)
            XCTAssertEqual(a.tensor.dtype, b.tensor.dtype, a.name)
            XCTAssertEqual(a.tensor.bytes, b.tensor.bytes, a.name)
        }
        XCTAssertEqual(back.metadata, ["format": "pt"])
    }

    func testHeaderIsPaddedToEightBytesAndOffsetsTileTheData() throws {
        let bytes = try sample().serialized()
        let n = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        XCTAssertEqual(n % 8, 0)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{"))
        XCTAssertTrue(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
        XCTAssertTrue(header.contains("\"dtype\":\"I64\"") || header.contains("\"dtype\": \"I64\""), header)
        XCTAssertEqual(bytes.count - 8 - n, 6 * 4 + 8 + 3 * 2 + 2 * 2)
    }

    func testTruncatedFileIsRefused() throws {
        var bytes = try sample().serialized()
        bytes.removeLast(3)
        XCTAssertThrowsError(try SafeTensorsFile.parse(bytes, file: "t.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("t.safetensors"), "\(error)")
        }
    }

    func testDuplicateNameIsRefused() {
        let t = Tensor(shape: [1], floats: [1])
        let file = SafeTensorsFile(entries: [.init(name: "a", tensor: t), .init(name: "a", tensor: t)])
        XCTAssertThrowsError(try file.serialized())
    }
}
