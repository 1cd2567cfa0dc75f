import ArgumentParser
import BNConv
import Foundation

/// The `bnconv` root command: fold BatchNorm, convert layouts and formats, verify the numbers.
@main
struct BNConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bnconv",
        abstract: "Fold BatchNorm, switch layouts and move checkpoints between Keras, TensorFlow and ONNX, with proof the numbers did not change.",
        discussion: """
        Exit status: 0 success, 1 error (the message names the file, the place in it and the problem), \
        2 usage error, 3 verification failed (nothing written).

        Every subcommand takes --json (one JSON object on stdout, schema in the README), --quiet (only \
        errors and the essential result) and --verbose (more detail). Colour and progress bars appear \
        only on a terminal, never with NO_COLOR set. Shell completion: bnconv --generate-completion-script bash|zsh|fish.

        Example:
          bnconv inspect model.h5
          bnconv fold model.h5 --report fold.html
          bnconv verify model.h5 model.folded.h5
        """,
        version: "0.1.0",
        subcommands: [InspectCommand.self, FoldCommand.self, ConvertCommand.self, VerifyCommand.self, RunCommand.self,
                      RecalibrateCommand.self]
    )

    /// Parses and runs, mapping ArgumentParser's usage failures (EX_USAGE, 64) to bnconv's
    /// documented status 2.
    static func main() {
        CPUFeatureCheck.requireBuildFeatures()
        MemoryTuning.apply()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error)
                if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
                Foundation.exit(ExitStatus.usage.rawValue)
            }
            guard code != .success else { exit(withError: error) }  // --help, --version
            // An error ends the process without the C libraries' exit handlers: libhdf5's
            // H5_term_library closes the files still open, and one whose flush failed (a full
            // disk, ENOSPC) crashes it (SIGSEGV after the error line). Nothing of ours needs
            // them: outputs were already removed or renamed by the code that failed.
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            fflush(nil)
            _exit(code.rawValue)
        }
    }
}
