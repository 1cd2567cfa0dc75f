import Foundation
import XCTest
@testable import BNConvTestSupport

/// Every `$ bnconv ...` line of the README's tour runs, in order, against the shipped example and
/// succeeds, so the README never shows a command that does not work.
final class ReadmeCommandsTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testEveryReadmeCommandSucceeds() throws {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let commands = readme.split(separator: "\n").compactMap { line -> [String]? in
            guard line.hasPrefix("$ bnconv ") else { return nil }
            return line.dropFirst("$ bnconv ".count).split(separator: " ").map(String.init)
        }
        XCTAssertGreaterThanOrEqual(commands.count, 4, "the README tour lost its commands")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The files the tour names: the shipped example, the kept-BN case, the stale-statistics case,
        // Keras TF-format weights.
        let kerasWeights = "tf_checkpoint/keras_weights/"
        for (name, fixture) in [("mini_resnet.h5", "keras/mini_resnet/keras2.h5"), ("conv_relu_bn.h5", "keras/conv_relu_bn/keras2.h5"),
                                ("stale.h5", "diagnostics/stale_moving_statistics/keras2.h5"),
                                ("weights.ckpt.index", kerasWeights + "weights.ckpt.index"), ("model.json", kerasWeights + "model.json"),
                                ("weights.ckpt.data-00000-of-00001", kerasWeights + "weights.ckpt.data-00000-of-00001")] {
            try FileManager.default.copyItem(at: root.appendingPathComponent("Tests/Fixtures/\(fixture)"), to: dir.appendingPathComponent(name))
        }
        for args in commands {
            let result = try CLIRunner.run(args, in: dir)
            XCTAssertEqual(result.status, 0, "bnconv \(args.joined(separator: " ")): \(result.stderr)")
            XCTAssertFalse(result.stdout.isEmpty, "bnconv \(args.joined(separator: " ")) printed nothing")
        }
    }
}
