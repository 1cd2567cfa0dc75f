import ArgumentParser
import BNConv

/// The `bnconv` root command: fold BatchNorm, convert layouts and formats, verify the numbers.
@main
struct BNConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bnconv",
        abstract: "Fold BatchNorm, switch layouts and move checkpoints between Keras, TensorFlow and ONNX, with proof the numbers did not change.",
        version: "0.1.0",
        subcommands: [InspectCommand.self, FoldCommand.self, VerifyCommand.self, RunCommand.self, RecalibrateCommand.self]
    )
}
