import ArgumentParser
import Foundation
import LSSKDDeploy
import LSSKDDistill
import LSSKDTensor
import LSSKDTrain

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the backbone of a training checkpoint (no branches, momentum or memories) as a model file for `lsskd eval`, the C runtime (include/lsk_model.h), ONNX or safetensors.",
        discussion: """
        Formats (docs/model-format.md):
          lskm         (default) the model file of `lsskd eval` / `predict` and of the C runtime: the
                       backbone's state and its inference graph (batch norm folded into the
                       convolutions, ReLUs and residual additions fused)
          onnx         an ONNX model (opset 13) of the same inference graph, input "images"
                       [N, C, H, W] with pixels in [0, 1] (the normalisation is its first node),
                       output "logits"
          safetensors  the backbone's state dictionary with PyTorch-style names (batch norm
                       unfolded: what torch's load_state_dict of the reference model reads) and
                       the model description in __metadata__
        """)

    @Argument(help: "Checkpoint file (RUN/checkpoint.lsk) or an exported model (.lskm).")
    var checkpoint: String

    @Option(help: "File to write.")
    var output: String

    @Option(help: "lskm, onnx or safetensors.")
    var format = "lskm"

    @Flag(help: "Replace --output if it exists.")
    var overwrite = false

    func validate() throws {
        guard ["lskm", "onnx", "safetensors"].contains(format) else {
            throw ValidationError("--format must be lskm, onnx or safetensors, not '\(format)'")
        }
    }

    func run() throws {
        if FileManager.default.fileExists(atPath: output) && !overwrite {
            throw CLIError("\(output) exists; pass --overwrite to replace it")
        }
        let file = try ModelFile(path: checkpoint)
        var exported = try ModelExport.export(file.archive, parameterNames: Set(file.model.namedParameters().map(\.0)))
        let d = file.description
        if format == "safetensors" {  // the state dictionary as trained: no inference graph
            try SafetensorsExport.write(exported, to: output)
            print("exported \(file.name) as safetensors (\(exported.state(.model).count) tensors) to \(output)")
            return
        }
        let graph = try InferenceLowering.lower(file.model, channels: d.inChannels, imageSize: d.imageSize,
                                                normMean: d.normMean, normStd: d.normStd).optimized()
        switch format {
        case "onnx":
            try ONNXExport.write(graph, description: d, producerVersion: LSSKDCommand.version, to: output)
            print("exported \(file.name) as ONNX (\(graph.nodes.count) inference nodes) to \(output)")
        default:
            RuntimeGraphFormat.attach(graph, to: &exported)
            try exported.write(to: output)
            let dropped = file.archive.order.filter { !$0.hasPrefix("model.") && !$0.hasPrefix("graph.") }.count
            print("exported \(file.name) (\(exported.parameterCount ?? 0) parameters, \(graph.nodes.count) inference nodes; \(dropped) training-only tensors dropped) to \(output)")
        }
    }
}
