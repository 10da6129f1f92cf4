import ArgumentParser

@main
struct LSSKDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsskd",
        abstract: "Train compact image models on the CPU (layered self-supervised self-distillation).",
        subcommands: [TrainCommand.self, EvalCommand.self, ExportCommand.self, PredictCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}
