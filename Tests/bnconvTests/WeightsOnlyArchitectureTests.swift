@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Keras weights-only files carry their architecture beside them: `verify` finds a folded file's
/// own `x.json` (or takes `--candidate-config`), and `convert --layout` with `--config` writes the
/// converted weights and their converted architecture.
final class WeightsOnlyArchitectureTests: XCTestCase {
    private var dir: URL!
    private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras/mini_resnet")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["keras2_weights.h5", "keras2.json"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testVerifyTakesEachSidesArchitecture() throws {
        let fold = try CLIRunner.run(["fold", "keras2_weights.h5", "--config", "keras2.json", "-o", "folded.h5"], in: dir)
        XCTAssertEqual(fold.status, 0, fold.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("folded.json").path))
        // The folded file's own architecture (no BatchNormalization) is found beside it.
        let found = try CLIRunner.run(["verify", "keras2_weights.h5", "folded.h5", "--config", "keras2.json"], in: dir)
        XCTAssertEqual(found.status, 0, found.stderr)
        XCTAssertTrue(found.stdout.contains("PASS"), found.stdout)
        // ... or given; and the reference's architecture alone does not describe the folded file.
        try FileManager.default.moveItem(at: dir.appendingPathComponent("folded.json"), to: dir.appendingPathComponent("other.json"))
        let given = try CLIRunner.run(["verify", "keras2_weights.h5", "folded.h5", "--config", "keras2.json", "--candidate-config", "other.json"], in: dir)
        XCTAssertEqual(given.status, 0, given.stderr)
        let wrong = try CLIRunner.run(["verify", "keras2_weights.h5", "folded.h5", "--config", "keras2.json"], in: dir)
        XCTAssertEqual(wrong.status, 1, wrong.stdout)
    }

    func testLayoutConversionOfWeightsWritesTheirArchitectureToo() throws {
        let result = try CLIRunner.run(["convert", "keras2_weights.h5", "--config", "keras2.json", "--layout", "nchw", "-o", "nchw.h5"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = dir.appendingPathComponent("nchw.json").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: json))
        let model = try Checkpoint.read(dir.appendingPathComponent("nchw.h5").path, config: json)
        let layouts = model.nodes.compactMap { node -> DataLayout? in if case .conv(let c) = node.op { return c.layout } else { return nil } }
        XCTAssertFalse(layouts.isEmpty)
        XCTAssertTrue(layouts.allSatisfy { $0 == .channelsFirst }, "\(layouts)")
    }
}
