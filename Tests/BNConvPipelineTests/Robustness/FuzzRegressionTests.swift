@testable import BNConvCore
@testable import BNConvFormats
@testable import BNConvPipeline
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Every input `make fuzz` found a crash with (Tests/Fixtures/robustness/fuzz) now ends in a
/// `CheckpointError` naming the file, or a model: never a trap.
final class FuzzRegressionTests: XCTestCase {
    func testEveryFindingIsRefusedOrRead() throws {
        let dir = FixturePaths.url("robustness/fuzz")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasSuffix(".md") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 2)
        for name in files {
            let path = dir.appendingPathComponent(name).path
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            do {
                switch (name as NSString).pathExtension {
                case "onnx": _ = try ONNXReader.read(bytes: bytes, file: path)
                case "pb": _ = try GraphDefReader.read(bytes: bytes, file: path)
                case "npy": _ = try NumPyFile.decode(Data(bytes), file: path)
                case "json": _ = try JSONValue.parse(String(decoding: bytes, as: UTF8.self))
                case "h5": _ = try KerasReader.readHDF5(image: bytes, name: path)
                default: XCTFail("\(name): no reader for this extension")
                }
            } catch let error as CheckpointError {
                XCTAssertTrue(error.description.hasPrefix(path + ": "), "\(name): \(error)")
            } catch {
                XCTAssertFalse("\(error)".isEmpty, name)
            }
        }
    }
}
