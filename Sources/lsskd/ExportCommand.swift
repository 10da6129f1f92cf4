import ArgumentParser
import Foundation
import LSSKDDistill
import LSSKDTensor
import LSSKDTrain

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the backbone of a training checkpoint (no branches, momentum or memories) as a model file that `lsskd eval` reads.")

    @Argument(help: "Checkpoint file (RUN/checkpoint.lsk).")
    var checkpoint: String

    @Option(help: "Model file to write.")
    var output: String

    func run() throws {
        let archive = try TensorArchive.read(from: checkpoint)
        let meta = archive.metadata
        guard let modelName = meta["model"], let inChannels = meta["in_channels"].flatMap(Int.init),
              let classes = meta["classes"].flatMap(Int.init) else {
            throw CLIError("\(checkpoint): metadata lacks model/in_channels/classes (written by an older lsskd?)")
        }
        var rng = RNG(seed: 0)
        let model = try ModelChoice.make(modelName, width: meta["width"].flatMap(Int.init) ?? 16, inChannels: inChannels,
                                         classes: classes, rng: &rng)
        let exported = try ModelExport.export(archive, parameterNames: Set(model.namedParameters().map(\.0)))
        // The file must load into the architecture it names.
        do { try ModelExport.load(exported, into: model) } catch { throw CLIError("\(checkpoint) does not fit \(modelName): \(error)") }
        try exported.write(to: output)
        let dropped = archive.names.count - exported.names.count
        print("exported \(modelName) (\(exported.metadata["parameters"]!) parameters, \(exported.names.count) tensors; \(dropped) training-only tensors dropped) to \(output)")
    }
}
