import LSSKDModels
import LSSKDNN
import LSSKDTensor

/// Builds a model by its command-line name: `simplecnn` or any name of ``ModelZoo``.
enum ModelChoice {
    static var names: [String] { ["simplecnn"] + ModelZoo.names }

    static func isKnown(_ name: String) -> Bool { name == "simplecnn" || ModelZoo.canonicalName(name) != nil }

    static func make(_ name: String, width: Int, inChannels: Int, classes: Int, rng: inout RNG) throws -> Module {
        if name == "simplecnn" { return SimpleCNN(inChannels: inChannels, classes: classes, width: width, rng: &rng) }
        return try ModelZoo.make(name: name, inChannels: inChannels, classes: classes, rng: &rng)
    }
}
