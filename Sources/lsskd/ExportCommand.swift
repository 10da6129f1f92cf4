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

    @Flag(help: "Replace --output if it exists.")
    var overwrite = false

    func run() throws {
        if FileManager.default.fileExists(atPath: output) && !overwrite {
            throw CLIError("\(output) exists; pass --overwrite to replace it")
        }
        let file = try ModelFile(path: checkpoint)
        let exported = try ModelExport.export(file.archive, parameterNames: Set(file.model.namedParameters().map(\.0)))
        try exported.write(to: output)
        let dropped = file.archive.order.count - exported.order.count
        print("exported \(file.name) (\(exported.parameterCount!) parameters, \(exported.order.count) tensors; \(dropped) training-only tensors dropped) to \(output)")
    }
}
