import ArgumentParser

@main
struct LSSKDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsskd",
        abstract: "Train compact image models on the CPU (layered self-supervised self-distillation).",
        version: "lsskd \(LSSKDCommand.version)",
        subcommands: [TrainCommand.self, EvalCommand.self, ExportCommand.self, PredictCommand.self],
        defaultSubcommand: TrainCommand.self
    )

    /// The tool's version (stored in run records; `lsskd --version`).
    static let version = "0.6.0"

    /// `--config FILE` of `train` is expanded into the file's options before parsing, so
    /// that options after it override the file's (see ``TrainCommand/expandConfig(_:)``).
    static func main() {
        do {
            var args = Array(CommandLine.arguments.dropFirst())
            args = try TrainCommand.expandConfig(args)
            var command = try parseAsRoot(args)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
