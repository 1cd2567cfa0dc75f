import Foundation
import XCTest
@testable import BNConvTestSupport

/// The attacks of issue #21's second round, each a regression test: crafted files in
/// Tests/Fixtures/robustness/attacks (written by tools/attack/make_attacks.py --fixtures from the
/// project's own fixtures) or generated here. Every command ends with status 0 or 1 (never a
/// signal), within the timeout, with one error line naming the file, and leaves nothing behind.
final class HostileInputRoundTwoCLITests: XCTestCase {
    private static let attacks = FixturePaths.url("robustness/attacks")

    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Runs `command` and checks the common promises; returns the result.
    @discardableResult
    private func check(_ command: [String], file: String, status expected: Int32, outputDirectory: URL? = nil,
                       line: UInt = #line) throws -> CLIRunner.Result {
        let result = try CLIRunner.run(command, timeout: 60)
        let label = command.prefix(3).joined(separator: " ")
        XCTAssertFalse(result.timedOut, "\(label) did not finish", line: line)
        XCTAssertFalse(result.signalled, "\(label) died by a signal: \(result.stderr)", line: line)
        XCTAssertEqual(result.status, expected, "\(label): \(result.stderr)", line: line)
        if result.status != 0 {
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(label): \(result.stderr)", line: line)
            XCTAssertTrue(result.stderr.hasPrefix("bnconv: error: \(file)"), "\(label): \(result.stderr)", line: line)
            if let outputDirectory {
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outputDirectory.path), [], "\(label) left files", line: line)
            }
        }
        return result
    }

    /// Files that no command may read: each refusal names the file, the place and the limit.
    func testRefusedAttackFiles() throws {
        let expected = [
            "hdf5-sparse-gzip-8x1g.h5": "/model_weights/bn/bn/bomb_0:0: cannot read the dataset (HDF5: it declares shape [268435456] of float32 (1073741824 bytes), more than the",
            "keras-inbound-min.h5": "input: a reference to call (node) -9223372036854775808 of the layer, which is called 1 time(s)",
            "keras-inbound-tensor-max.h5": "input: a reference to output 9223372036854775807 of the layer (bnconv reads outputs 0..<1024)",
            "keras-output-index-max.h5": "conv: a reference to output 9223372036854775807 of the layer (bnconv reads outputs 0..<1024)",
            "keras-output-node-1e9.h5": "conv: a reference to call (node) 1000000000 of the layer, which is called 1 time(s)",
            "keras-output-tensor-1e9.h5": "conv: a reference to output 1000000000 of the layer (bnconv reads outputs 0..<1024)",
            "keras-truncated-deflate.keras": "model.weights.h5: the member's deflate stream runs past its 12256 stored bytes (truncated)",
            "onnx-deep-typeproto-60.onnx": "not an ONNX model: messages are nested more than 100 deep",
            "graphdef-deep-func-60.pb": "not a TensorFlow GraphDef: messages are nested more than 100 deep",
            "graphdef-splat.pb": "the Const nodes declare 4294967296 bytes in all, more than the 67108864 bytes allowed",
        ]
        for (name, message) in expected.sorted(by: { $0.key < $1.key }) {
            let path = Self.attacks.appendingPathComponent(name).path
            let out = try scratch()
            let ext = (name as NSString).pathExtension
            for command in [["inspect", path], ["run", path], ["fold", path, "--no-verify", "-o", out.appendingPathComponent("a.\(ext)").path],
                            ["fold", path, "-o", out.appendingPathComponent("b.\(ext)").path],
                            ["convert", path, "-o", out.appendingPathComponent("c.onnx").path]] {
                let result = try check(command, file: path, status: 1, outputDirectory: out)
                XCTAssertTrue(result.stderr.contains("\(path): \(message)"), "\(command[0]) \(name): \(result.stderr)")
            }
        }
    }

    /// Files that are models with absurd sizes (a padding of 2^62, an upsampling of 100,000, a
    /// conv of 0 filters): inspecting and folding without verification work; running them is an
    /// error naming the node, not a trap or an allocation abort. (The zero-channel BN has nothing
    /// to fold, so `fold` runs nothing there: `run` is the error.)
    func testAbsurdSizesAreErrorsWhenRun() throws {
        for (name, node) in [("keras-zeropad-2e62.h5", "pad_asym"), ("keras-upsample-1e5.h5", "upsample"), ("keras-zero-channels.h5", "bn")] {
            let path = Self.attacks.appendingPathComponent(name).path
            let out = try scratch()
            try check(["inspect", path], file: path, status: 0)
            try check(["fold", path, "--no-verify", "-o", out.appendingPathComponent("a.h5").path], file: path, status: 0)
            let foldRuns = name != "keras-zero-channels.h5"
            for command in [["run", path]] + (foldRuns ? [["fold", path, "-o", out.appendingPathComponent("b.h5").path]] : []) {
                let result = try check(command, file: path, status: 1)
                XCTAssertTrue(result.stderr.contains("node '\(node)'"), result.stderr)
            }
        }
    }

    /// Crafted ONNX sizes found by tools/attack/sweep_config.py's ONNX sweep (files made with the
    /// onnx package from the fixtures, kept as they are): a ConvTranspose `group` of 2^62 trapped
    /// every command (the filter count overflowed); an input of 2^62 channels crashed
    /// `convert --layout` (the Flatten row permutation was sized by it).
    func testCraftedONNXSizes() throws {
        let group = Self.attacks.appendingPathComponent("onnx-convtranspose-group-2e62.onnx").path
        let out = try scratch()
        try check(["inspect", group], file: group, status: 0)
        try check(["run", group], file: group, status: 1)
        try check(["fold", group, "--no-verify", "-o", out.appendingPathComponent("g.onnx").path], file: group, status: 0)
        let channels = Self.attacks.appendingPathComponent("onnx-input-channels-2e62.onnx").path
        for command in [["inspect", channels], ["run", channels], ["convert", channels, "--layout", "nhwc", "-o", out.appendingPathComponent("c.onnx").path]] {
            let result = try CLIRunner.run(command, timeout: 60)
            XCTAssertFalse(result.signalled || result.timedOut, "\(command[0]): \(result.stderr)")
            XCTAssertTrue([0, 1].contains(result.status), "\(command[0]): \(result.stderr)")
            XCTAssertLessThanOrEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
    }

    /// Protobuf nested 10,000 deep crashed protobuf-c's recursive unpack (SIGSEGV): now refused
    /// by the wire check before unpacking, in every format and command.
    func testDeepProtobufNestingIsRefused() throws {
        let dir = try scratch()
        let files: [(String, [UInt8])] = [
            ("type.onnx", WireBytes.onnxModel(graph: WireBytes.string(2, "g")
                + WireBytes.bytes(13, WireBytes.string(1, "x") + WireBytes.bytes(2, WireBytes.onnxNestedType(depth: 10_000))))),
            ("if.onnx", WireBytes.onnxModel(graph: WireBytes.onnxNestedIf(depth: 3_000))),
            ("func.pb", WireBytes.tfNode("n", op: "NoOp", attributes: WireBytes.tfAttribute("f", WireBytes.tfNestedFunctionAttribute(depth: 10_000)))),
        ]
        for (name, bytes) in files {
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let out = try scratch()
            for command in [["inspect", path], ["run", path], ["fold", path, "-o", out.appendingPathComponent("f").path + "." + (name as NSString).pathExtension]] {
                let result = try check(command, file: path, status: 1, outputDirectory: out)
                XCTAssertTrue(result.stderr.contains("messages are nested more than 100 deep"), result.stderr)
            }
        }
    }

    /// 100,000-node chains took over 120 s (quadratic constant resolution and topological order in
    /// the GraphDef reader, a consumer scan per opaque op, ONNX nodes all of one name): each command
    /// now finishes (the timeout is a hang check, the speed is in tools/attack/run_attacks.py).
    func testLongChainsFinish() throws {
        let dir = try scratch()
        let count = 100_000
        var identity = WireBytes.tfPlaceholder("x", dims: [1, 4])
        var opaque = WireBytes.tfPlaceholder("x", dims: [1, 4])
        var sameName: [UInt8] = []   // ONNX allows every node the same name: 100 s before (name suffixes counted from 1 each time)
        for k in 0..<count {
            let input = k == 0 ? "x" : "n\(k - 1)"
            identity += WireBytes.tfNode("n\(k)", op: "Identity", inputs: [input], attributes: WireBytes.tfAttribute("T", WireBytes.int(6, 1)))
            opaque += WireBytes.tfNode("n\(k)", op: "Unheard", inputs: [input])
            sameName += WireBytes.bytes(1, WireBytes.onnxNode("Relu", inputs: [input], outputs: ["n\(k)"], name: "same"))
        }
        let onnx = WireBytes.onnxModel(graph: sameName + WireBytes.string(2, "g") + WireBytes.bytes(11, WireBytes.onnxValueInfo("x", dims: [1, 8]))
            + WireBytes.bytes(12, WireBytes.onnxValueInfo("n\(count - 1)", dims: [1, 8])))
        for (name, bytes) in [("identity.pb", identity), ("opaque.pb", opaque), ("same-name.onnx", onnx)] {
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try check(["inspect", path], file: path, status: 0)
            let out = dir.appendingPathComponent("out-" + name).path
            let fold = try CLIRunner.run(["fold", path, "--no-verify", "-o", out], timeout: 60)
            XCTAssertFalse(fold.timedOut || fold.signalled, fold.stderr)
            XCTAssertTrue([0, 1].contains(fold.status), fold.stderr)
        }
    }

    /// A Concat of 100,000 inputs: the engine asked, for each input, how often the node reads it
    /// by scanning all of them (10^10 steps, `run` past 60 s); it now counts once per wide node.
    func testAWideNodeRuns() throws {
        let dir = try scratch()
        let count = 100_000
        let inputs = (0..<count).map { "x\($0)" }
        let axis = WireBytes.bytes(5, WireBytes.string(1, "axis") + WireBytes.int(3, 1) + WireBytes.int(20, 2))
        var graph = WireBytes.bytes(1, WireBytes.onnxNode("Concat", inputs: inputs, outputs: ["y"], name: "cat", attributes: axis)) + WireBytes.string(2, "g")
        for name in inputs { graph += WireBytes.bytes(11, WireBytes.onnxValueInfo(name, dims: [1, 4])) }
        graph += WireBytes.bytes(12, WireBytes.onnxValueInfo("y", dims: [1, Int64(4 * count)]))
        let path = dir.appendingPathComponent("wide.onnx").path
        try Data(WireBytes.onnxModel(graph: graph)).write(to: URL(fileURLWithPath: path))
        let result = try check(["run", path], file: path, status: 0)
        XCTAssertTrue(result.stdout.hasPrefix("y: shape [1, 400000]"), result.stdout)
    }

    /// `--samples 1e9` made every random input before the first run (memory grew without end):
    /// samples are now made one run at a time, and more than 10,000 is a usage error.
    func testSampleCountIsBounded() throws {
        let model = FixturePaths.url("keras/bn_conv/keras2.h5").path
        let result = try CLIRunner.run(["fold", model, "--samples", "1000000000", "-o", "never.h5"], timeout: 60)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("--samples must be at most 10000"), result.stderr)
    }

    /// A full disk: every writing command ends with status 1 and one line naming the output and
    /// the reason, leaves nothing in the folder, and does not crash (libhdf5's exit handler used
    /// to, after the error line). Needs a small tmpfs, so root and mount rights: skipped without.
    func testAFullDiskIsACleanError() throws {
        let mountPoint = try scratch()
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint.path]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw XCTSkip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)") }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mountPoint.path]
            try? umount.run()
            umount.waitUntilExit()
        }
        // Fill it.
        let fill = mountPoint.appendingPathComponent("fill").path
        FileManager.default.createFile(atPath: fill, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: fill))
        let block = Data(count: 4096)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
        let mini = FixturePaths.url("keras/mini_resnet").path
        let data = FixturePaths.url("keras/mini_resnet/calib.npy").path
        let commands: [[String]] = [
            ["fold", "\(mini)/keras2.h5", "--no-verify", "-o", "\(mountPoint.path)/a.h5"],
            ["fold", "\(mini)/keras2.h5", "-o", "\(mountPoint.path)/b.h5"],
            ["fold", "\(mini)/keras3.keras", "-o", "\(mountPoint.path)/c.keras"],
            ["fold", "\(mini)/keras3.weights.h5", "--config", "\(mini)/keras3.json", "-o", "\(mountPoint.path)/d.weights.h5"],
            ["fold", FixturePaths.url("onnx/conv_bn/model.onnx").path, "-o", "\(mountPoint.path)/e.onnx"],
            ["fold", FixturePaths.url("tensorflow/conv_bias_bn/graph.pb").path, "-o", "\(mountPoint.path)/f.pb"],
            ["convert", "\(mini)/keras2.h5", "-o", "\(mountPoint.path)/g.onnx"],
            ["convert", "\(mini)/keras2.h5", "--layout", "nchw", "-o", "\(mountPoint.path)/h.h5"],
            ["recalibrate", "\(mini)/keras2.h5", "--data", data, "-o", "\(mountPoint.path)/i.h5"],
            ["run", "\(mini)/keras2.h5", "-o", "\(mountPoint.path)/j.npy"],
        ]
        for command in commands {
            let output = command[command.count - 1]
            let result = try CLIRunner.run(command, timeout: 60, environment: ["BNCONV_DEFER_BYTES": "0"])
            XCTAssertFalse(result.signalled, "\(command[0]) \(output): \(result.stderr)")
            XCTAssertEqual(result.status, 1, "\(command[0]) \(output): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("bnconv: error: \(output)"), result.stderr)
            XCTAssertTrue(result.stderr.contains("No space left on device"), result.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mountPoint.path), ["fill"], "\(command[0]) left files")
        }
    }
}
