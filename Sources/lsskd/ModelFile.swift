import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// A network rebuilt from a checkpoint or an exported model file (``ModelArchive``): the
/// architecture, input shape, class count and preprocessing come from the file's
/// ``ModelDescription``, the weights from its `model.*` tensors. Shared by `lsskd eval`,
/// `lsskd predict`, `lsskd export` and the KD teacher of `lsskd train`.
struct ModelFile {
    let path: String
    let archive: ModelArchive
    let model: Module

    var description: ModelDescription { archive.description }
    var name: String { description.model }
    var inChannels: Int { description.inChannels }
    var classes: Int { description.classes }
    var imageSize: Int { description.imageSize }
    var normalization: ChannelNormalization { ChannelNormalization(mean: description.normMean, std: description.normStd) }
    var classNames: [String]? { description.classNames }
    /// The resize filter of training (folder datasets); area when the file does not say.
    var resizeFilter: ResizeFilter { description.resizeFilter.flatMap(ResizeFilter.init(rawValue:)) ?? .area }
    /// A checkpoint's training-only modules (LSSKD's branches: `aux.*` without the prefix);
    /// empty for exported models, which drop them.
    var auxiliaryState: [String: Tensor] { archive.state(.aux) }

    init(path: String) throws {
        self.path = path
        archive = try ModelArchive.read(from: path)
        let d = archive.description
        guard ModelChoice.isKnown(d.model) else { throw CLIError("\(path): unknown architecture '\(d.model)'") }
        var rng = RNG(seed: 0)
        model = try ModelChoice.make(d.model, width: d.width, inChannels: d.inChannels, classes: d.classes, rng: &rng)
        do { try model.loadStateDict(archive.state(.model)) } catch { throw CLIError("\(path) does not fit \(d.model): \(error)") }
        model.eval()
    }
}
