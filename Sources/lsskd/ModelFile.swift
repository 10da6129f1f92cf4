import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// A model rebuilt from a checkpoint or an exported model file: the architecture, input shape,
/// class count and normalisation come from the file's metadata, the weights from its
/// `model.*` tensors. Shared by `lsskd eval` and `lsskd predict`.
struct ModelFile {
    let path: String
    let metadata: [String: String]
    let name: String
    let model: Module
    let inChannels: Int
    let classes: Int
    let imageSize: Int
    let normalization: ChannelNormalization
    /// Class names when the model was trained on a folder dataset, else nil.
    let classNames: [String]?
    /// A checkpoint's training-only modules (LSSKD's branches: `aux.*` without the prefix);
    /// empty for exported models, which drop them.
    let auxiliaryState: [String: Tensor]

    init(path: String) throws {
        self.path = path
        let archive = try TensorArchive.read(from: path)
        metadata = archive.metadata
        func need(_ key: String) throws -> String {
            guard let v = archive.metadata[key] else { throw CLIError("\(path): metadata has no \(key) (written by an older lsskd?)") }
            return v
        }
        func floats(_ key: String) throws -> [Float] {
            let v = try need(key).split(separator: ",").compactMap { Float($0) }
            guard !v.isEmpty else { throw CLIError("\(path): bad \(key) entry") }
            return v
        }
        name = try need("model")
        guard let width = Int(try need("width")), let c = Int(try need("in_channels")), let k = Int(try need("classes")) else {
            throw CLIError("\(path): bad model metadata")
        }
        inChannels = c
        classes = k
        imageSize = Int(archive.metadata["image_size"] ?? "") ?? 32
        normalization = ChannelNormalization(mean: try floats("norm_mean"), std: try floats("norm_std"))
        classNames = archive.metadata["class_names"].map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        var rng = RNG(seed: 0)
        model = try ModelChoice.make(name, width: width, inChannels: c, classes: k, rng: &rng)
        var state = [String: Tensor]()
        var aux = [String: Tensor]()
        for n in archive.names {
            if n.hasPrefix("model.") { state[String(n.dropFirst(6))] = archive[n] }
            if n.hasPrefix("aux.") { aux[String(n.dropFirst(4))] = archive[n] }
        }
        auxiliaryState = aux
        do { try model.loadStateDict(state) } catch { throw CLIError("\(path) does not fit \(name): \(error)") }
        model.eval()
    }
}
