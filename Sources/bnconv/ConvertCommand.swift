import ArgumentParser
import BNConv
import Foundation

/// `bnconv convert IN -o OUT`: exports to ONNX or safetensors, freezes a TensorFlow graph, moves
/// Keras weights between Keras files (TF-format weights, Keras 2 `.h5`), or changes the
/// activation layout of a checkpoint in its own format; every conversion is verified on the
/// engine first.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Export to ONNX or safetensors, or switch a checkpoint between NHWC and NCHW; verify, then write.",
        discussion: """
        The target is chosen by OUT's extension:
          .onnx          a new ONNX model (channels-first; opset 17, 20 with GELU)
          .safetensors   a PyTorch-convention state dict (OIHW conv weights, (out, in) dense weights)
          .pb            a frozen TensorFlow GraphDef, from a checkpoint (PREFIX + PREFIX.meta) or a SavedModel
                         directory: variables become constants, only what the outputs need is kept
          .h5 / .hdf5    a Keras 2 HDF5 model (config + weights, as tf_keras model.save writes it), from
                         any tf_keras model: Keras TF-format weights + --config, a weights-only .h5 + --config
          .ckpt / .index Keras TF-format weights (model.save_weights("w.ckpt")): w.ckpt.index + .data + the
                         `checkpoint` file, and w.json beside it unless the architecture came from --config
          anything else  the input's own format, with --layout nchw|nhwc (also for .h5, .pb, .ckpt)
        The converted model is run on the engine against the original (fed the transposed input, its
        output transposed back); beyond --tolerance nothing is written and the exit status is 3.

        Examples:
          bnconv convert model.h5 -o model.onnx --fold
          bnconv convert model.keras -o model.onnx --inputs-as-nhwc
          bnconv convert model.h5 -o model.safetensors
          bnconv convert model.ckpt -o frozen.pb --fold
          bnconv convert weights.ckpt --config model.json -o model.h5
          bnconv convert model.h5 -o weights.ckpt
          bnconv convert saved_model_dir -o model.onnx
          bnconv convert model.onnx -o model_nhwc.onnx --layout nhwc
        """
    )

    /// The layouts `--layout` accepts.
    enum LayoutChoice: String, ExpressibleByArgument, CaseIterable {
        case nchw, nhwc
        var layout: DataLayout { self == .nchw ? .channelsFirst : .channelsLast }
    }

    @Option(name: .shortAndLong, help: "Where to write: .onnx, .safetensors, .pb, .h5, .ckpt, or the input's format (with --layout).")
    var output: String

    @Option(help: "Activation layout of a same-format conversion (nchw or nhwc).")
    var layout: LayoutChoice?

    @Flag(help: "With --layout: keep the inputs and outputs in their original layout (one transpose each at the boundary).")
    var keepIOLayout = false

    @Flag(help: "ONNX export: keep NHWC inputs and outputs (one Transpose each at the boundary) instead of NCHW ones.")
    var inputsAsNHWC = false

    @Flag(help: "Fold every foldable BatchNorm first.")
    var fold = false

    @Flag(help: "TensorFlow training graph: rewire BatchNorms that normalize by batch statistics to the moving statistics their update ops maintain.")
    var assumeInference = false

    @Option(help: "Safetensors naming convention (only torch).")
    var naming: BatchNormNaming.Convention?

    @Argument(help: "The checkpoint: Keras .h5 / .keras / .weights.h5 / TF-format weights (w.ckpt with --config), TensorFlow .pb, a TensorFlow checkpoint prefix or SavedModel directory, ONNX .onnx.")
    var model: String

    /// --config, verification, --no-verify, --force, --report and the output flags.
    @OptionGroup var job: RewriteOptions

    /// What OUT's extension asks for (`nil`: the input's format, which needs --layout).
    var conversion: RewriteConversion? {
        RewriteConversion.forOutput(output, layout: layout?.layout, keepIOLayout: keepIOLayout, inputsAsNHWC: inputsAsNHWC)
    }

    func validate() throws {
        switch conversion {
        case .onnx:
            if keepIOLayout { throw ValidationError("--keep-io-layout applies to --layout; for ONNX use --inputs-as-nhwc") }
        case .safeTensors:
            if let naming, naming != .torch { throw ValidationError("safetensors are written in the torch naming only (--naming torch)") }
            if layout != nil || inputsAsNHWC || keepIOLayout {
                throw ValidationError("a safetensors state dict is always channels-first; --layout, --keep-io-layout and --inputs-as-nhwc do not apply")
            }
        case .layout:
            if inputsAsNHWC { throw ValidationError("--inputs-as-nhwc applies to ONNX export; use --keep-io-layout with --layout") }
        case .frozenGraph:
            if inputsAsNHWC || keepIOLayout { throw ValidationError("--inputs-as-nhwc and --keep-io-layout do not apply to a frozen GraphDef (.pb) output") }
        case .keras(let target):
            if inputsAsNHWC || keepIOLayout { throw ValidationError("--inputs-as-nhwc and --keep-io-layout do not apply to a \(target.displayName) output") }
        case nil:
            throw ValidationError("\(output): not .onnx, .safetensors, .pb, .h5 or .ckpt, so a same-format conversion: give --layout nchw|nhwc")
        }
        if naming != nil && conversion != .safeTensors { throw ValidationError("--naming applies to a .safetensors output (inspect --naming shows every convention)") }
    }

    func run() throws {
        let out = job.out
        CrashGuard.install(reading: [model] + (job.config.map { [$0] } ?? []))
        try reportingErrors {
            if OutputPath.sameFile(output, model) {
                throw ValidationError("the output would overwrite the input \(model); choose another -o")
            }
            var request = job.request(input: model, output: output)
            request.fold = fold
            request.assumeInference = assumeInference
            request.conversion = conversion
            let result = try job.run(request)
            if out.json {
                print(try ConvertSummary(result).jsonText())
            } else if out.printsText {
                let target = request.conversion.map { if case .layout = $0 { "\(result.format.displayName), \(layout!.rawValue)" } else { $0.targetName } } ?? ""
                print("\(model): \(result.format.displayName) -> \(target)" + (result.conversion?.opset.map { " (opset \($0))" } ?? ""))
                if fold {
                    print("fold: \(result.decisions.count) BatchNorm layer(s), \(result.foldedCount) folded")
                    ReportText.decisions(result.decisions).forEach { print($0) }
                }
                let boundary = result.conversion?.boundary
                for (i, p) in (boundary?.inputs ?? []).enumerated() where p != nil {
                    print("  input \(result.inputNames[i]): feed it transposed by \(p!)")
                }
                for (i, p) in (boundary?.outputs ?? []).enumerated() where p != nil {
                    print("  output \(result.outputNames[i]): comes out transposed by \(p!)")
                }
                if out.verbose { result.conversion?.notes.forEach { print("  \($0)") } }
                if let report = result.verification { ReportText.verification(report, verbose: out.verbose).forEach { print($0) } }
                if result.written {
                    print("wrote \(output) (\(OutputPath.sizeText(result.outputBytes ?? 0))) in \(String(format: "%.2f", result.seconds)) s")
                }
            }
            try VerifiedWrite.conclude(result, "the converted model differs from the original")
        }
    }
}
