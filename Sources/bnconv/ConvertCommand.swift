import ArgumentParser
import BNConv
import Foundation

/// `bnconv convert IN -o OUT`: exports to ONNX or safetensors, or changes the activation layout
/// of a checkpoint in its own format; every conversion is verified on the engine first.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Export to ONNX or safetensors, or switch a checkpoint between NHWC and NCHW; verify, then write.",
        discussion: """
        The target is chosen by OUT's extension:
          .onnx          a new ONNX model (channels-first; opset 17, 20 with GELU)
          .safetensors   a PyTorch-convention state dict (OIHW conv weights, (out, in) dense weights)
          anything else  the input's own format, with --layout nchw|nhwc
        The converted model is run on the engine against the original (fed the transposed input, its
        output transposed back); beyond --tolerance nothing is written and the exit status is 3.

        Examples:
          bnconv convert model.h5 -o model.onnx --fold
          bnconv convert model.keras -o model.onnx --inputs-as-nhwc
          bnconv convert model.h5 -o model.safetensors
          bnconv convert model.onnx -o model_nhwc.onnx --layout nhwc
        """
    )

    /// The layouts `--layout` accepts.
    enum LayoutChoice: String, ExpressibleByArgument, CaseIterable {
        case nchw, nhwc
        var layout: DataLayout { self == .nchw ? .channelsFirst : .channelsLast }
    }

    @Option(name: .shortAndLong, help: "Where to write: .onnx, .safetensors, or the input's format (with --layout).")
    var output: String

    @Option(help: "Activation layout of a same-format conversion (nchw or nhwc).")
    var layout: LayoutChoice?

    @Flag(help: "With --layout: keep the inputs and outputs in their original layout (one transpose each at the boundary).")
    var keepIOLayout = false

    @Flag(help: "ONNX export: keep NHWC inputs and outputs (one Transpose each at the boundary) instead of NCHW ones.")
    var inputsAsNHWC = false

    @Flag(help: "Fold every foldable BatchNorm first.")
    var fold = false

    @Option(help: "Safetensors naming convention (only torch).")
    var naming: BatchNormNaming.Convention?

    /// The input, --config, verification, --no-verify, --force, --report and the output flags.
    @OptionGroup var job: RewriteOptions

    /// What OUT's extension asks for.
    enum Target: String { case onnx, safetensors, sameFormat = "same format" }

    var target: Target {
        let lower = output.lowercased()
        if lower.hasSuffix(".onnx") && layout == nil { return .onnx }
        if lower.hasSuffix(".safetensors") { return .safetensors }
        return .sameFormat
    }

    func validate() throws {
        switch target {
        case .onnx:
            if keepIOLayout { throw ValidationError("--keep-io-layout applies to --layout; for ONNX use --inputs-as-nhwc") }
        case .safetensors:
            if let naming, naming != .torch { throw ValidationError("safetensors are written in the torch naming only (--naming torch)") }
            if layout != nil || inputsAsNHWC || keepIOLayout {
                throw ValidationError("a safetensors state dict is always channels-first; --layout, --keep-io-layout and --inputs-as-nhwc do not apply")
            }
        case .sameFormat:
            guard layout != nil else {
                throw ValidationError("\(output): not .onnx or .safetensors, so a same-format conversion: give --layout nchw|nhwc")
            }
            if inputsAsNHWC { throw ValidationError("--inputs-as-nhwc applies to ONNX export; use --keep-io-layout with --layout") }
        }
        if naming != nil && target != .safetensors { throw ValidationError("--naming applies to a .safetensors output (inspect --naming shows every convention)") }
    }

    func run() throws {
        let model = job.model, out = job.out
        try reportingErrors {
            if OutputPath.sameFile(output, model) {
                throw ValidationError("the output would overwrite the input \(model); choose another -o")
            }
            let started = Date()
            // Undeclared input layouts come from the ops reading them, so the boundary is never guessed.
            let original = BoundaryLayouts.annotated(try Checkpoint.read(model, config: job.config, options: CommandReadOptions.current))
            var source = original
            var decisions: [FoldDecision] = []
            var foldMap: [String: String]?
            if fold {
                let folded = try FoldBatchNorm().apply(to: original)
                source = folded.model
                decisions = folded.decisions
                foldMap = folded.valueMap
            }

            // Convert: the candidate the engine checks, and the bytes or writer to use.
            let candidate: Model
            var boundary: LayoutBoundary
            var notes: [String] = []
            var opset: Int?
            var commit: () throws -> Void
            let layoutChanged: Bool
            switch target {
            case .onnx:
                let export = try ONNXExporter.export(source, inputsAsNHWC: inputsAsNHWC, file: output)
                candidate = try ONNXReader.read(bytes: export.bytes, file: output, options: CommandReadOptions.current)
                boundary = export.boundary
                layoutChanged = ConvertCommand.spatialLayouts(of: export.layout.model) != ConvertCommand.spatialLayouts(of: source)
                notes = export.layout.notes
                opset = export.opset
                commit = { try AtomicFile.write(export.bytes, to: output) }
            case .safetensors:
                let file = try TorchStateDict.safeTensors(of: source)
                let bytes = try file.serialized(file: output)
                guard try SafeTensorsFile.parse(bytes, file: output) == file else {
                    throw CheckpointError(.unsupported, file: output, problem: "the state dict did not read back identically")
                }
                // The weights are those of the channels-first model: run that one.
                let converted = try ConvertLayout(target: .channelsFirst).apply(to: source)
                candidate = converted.model
                boundary = LayoutBoundary(source: original, converted: converted.model)
                layoutChanged = ConvertCommand.spatialLayouts(of: converted.model) != ConvertCommand.spatialLayouts(of: source)
                notes = converted.notes + ["\(file.entries.count) tensors in the state dict"]
                commit = { try AtomicFile.write(bytes, to: output) }
            case .sameFormat:
                let converted = try ConvertLayout(target: layout!.layout, keepIOLayout: keepIOLayout).apply(to: source)
                candidate = converted.model
                boundary = LayoutBoundary(source: original, converted: converted.model)
                layoutChanged = ConvertCommand.spatialLayouts(of: converted.model) != ConvertCommand.spatialLayouts(of: source)
                notes = converted.notes
                commit = { try writeSameFormat(converted.model, original: original) }
            }

            // The tolerance follows the weights as bnconv computed them (a fold into float16 rounds to float16),
            // not the ONNX copy, which stores every weight in the graph dtype.
            // Per-layer comparison only when no activation changed layout: a flattened NCHW
            // tensor has the NHWC one's shape but another element order.
            let report = try job.verify(reference: original, candidate: candidate, foldMap: foldMap, boundary: boundary,
                                        compareLayers: !layoutChanged, toleranceModel: source, verb: "convert")
            let gate = job.gate(report)
            let write = try gate.write(commit)

            let summary = ConvertSummary(
                input: model, output: write ? output : nil, format: original.format.rawValue, target: target.rawValue,
                opset: opset, inputPermutations: boundary.inputs, outputPermutations: boundary.outputs, notes: notes,
                batchNorms: decisions, folded: decisions.filter(\.folds).count, verification: report,
                outputBytes: write ? OutputPath.fileSize(output) : nil, seconds: Date().timeIntervalSince(started))
            try job.report.write(RunReport(command: "convert", input: model, output: summary.output, format: original.format.displayName,
                                            decisions: decisions, verification: report, opsBefore: RunReport.opCounts(original),
                                            opsAfter: RunReport.opCounts(candidate), inputBytes: OutputPath.fileSize(model),
                                            outputBytes: summary.outputBytes, notes: ["target: \(target.rawValue)"] + notes))
            if out.json {
                print(try summary.jsonText())
            } else if out.printsText {
                print("\(model): \(original.format.displayName) -> \(target == .sameFormat ? "\(original.format.displayName), \(layout!.rawValue)" : target.rawValue)"
                      + (opset.map { " (opset \($0))" } ?? ""))
                if fold {
                    print("fold: \(decisions.count) BatchNorm layer(s), \(summary.folded) folded")
                    ReportText.decisions(decisions).forEach { print($0) }
                }
                for (i, p) in boundary.inputs.enumerated() where p != nil {
                    print("  input \(original.inputs[i]): feed it transposed by \(p!)")
                }
                for (i, p) in boundary.outputs.enumerated() where p != nil {
                    print("  output \(original.outputs[i]): comes out transposed by \(p!)")
                }
                if out.verbose { notes.forEach { print("  \($0)") } }
                if let report { ReportText.verification(report, verbose: out.verbose).forEach { print($0) } }
                if write {
                    print("wrote \(output) (\(OutputPath.sizeText(summary.outputBytes ?? 0))) in \(String(format: "%.2f", summary.seconds)) s")
                }
            }
            try gate.conclude("the converted model differs from the original")
        }
    }
}

extension ConvertCommand {
    /// Writes a layout-converted model in its own format: first to a scratch copy with the same
    /// name, which is read back and (unless --no-verify) verified against the original, so a
    /// writer that cannot express the layout change never leaves a wrong file; then moved into place.
    func writeSameFormat(_ converted: Model, original: Model) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-convert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let staged = scratch.appendingPathComponent(URL(fileURLWithPath: output).lastPathComponent).path
        func named(_ error: CheckpointError) -> CheckpointError {
            var e = error
            if e.file == staged { e.file = output }
            return e
        }
        let hint = "bnconv cannot yet write this layout change as \(original.format.displayName); export to .onnx or .safetensors instead"
        do {
            try Checkpoint.write(converted, to: staged, config: nil)
        } catch let error as CheckpointError where error.kind == .unsupported {
            throw HintedError(named(error), hint: hint)
        } catch let error as CheckpointError {
            throw named(error)
        }
        let reread: Model
        do { reread = try Checkpoint.read(staged, options: CommandReadOptions.current) } catch let error as CheckpointError { throw named(error) }
        // A writer that knows nothing of layouts writes the original one back: refuse that file.
        let wrong = ConvertCommand.spatialLayouts(of: converted).filter { name, layout in
            ConvertCommand.spatialLayouts(of: reread)[name].map { $0 != layout } ?? false
        }
        if let (name, layout) = wrong.sorted(by: { $0.key < $1.key }).first {
            throw HintedError(CheckpointError(.unsupported, file: output, place: name,
                                              problem: "the \(original.format.displayName) writer did not write the layout change (the layer reads back as \(layout == .channelsFirst ? "nhwc" : "nchw"))"),
                              hint: hint)
        }
        if let report = try job.verify(reference: original, candidate: reread, boundary: LayoutBoundary(source: original, converted: reread),
                                       compareLayers: false, stage: "re-read", verb: "convert") {
            if !report.passed && !job.force {
                Terminal.printError("bnconv: the \(original.format.displayName) writer did not write the \(layout?.rawValue ?? "") layout faithfully: "
                                    + "the file read back differs from the original by \(ReportText.sci(report.worst?.maxRel ?? 0)) (tolerance \(ReportText.sci(report.tolerance))); "
                                    + "nothing was written (export to .onnx or .safetensors instead)")
                throw ExitStatus.verificationFailed
            }
        }
        try AtomicFile.copy(from: staged, to: output)
    }
}

extension ConvertCommand {
    /// The activation layout of every conv, pool and pad node, by name.
    static func spatialLayouts(of model: Model) -> [String: DataLayout] {
        var out: [String: DataLayout] = [:]
        for node in model.nodes {
            switch node.op {
            case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): out[node.name] = c.layout
            case .pool(let p): out[node.name] = p.layout
            case .globalPool(let g): out[node.name] = g.layout
            case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): out[node.name] = l
            default: break
            }
        }
        return out
    }
}

/// The `--json` object of `convert`.
struct ConvertSummary: Codable, JSONSummary {
    var command = "convert"
    var input: String
    var output: String?
    var format: String
    var target: String
    var opset: Int?
    var inputPermutations: [[Int]?]
    var outputPermutations: [[Int]?]
    var notes: [String]
    var batchNorms: [FoldDecision]
    var folded: Int
    var verification: VerificationReport?
    var outputBytes: Int?
    var seconds: Double
}
