import ArgumentParser
import Foundation

/// The output flags every subcommand shares: `--json`, `--quiet`, `--verbose`.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object on stdout instead of text (schema in the README).")
    var json = false

    @Flag(name: [.short, .long], help: "Print only errors.")
    var quiet = false

    @Flag(name: [.short, .long], help: "Print more detail (every layer, timings).")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be used together") }
    }

    /// Whether human-readable text goes to stdout.
    var printsText: Bool { !json && !quiet }
}
