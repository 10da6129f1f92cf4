import LSSKDNN
import LSSKDTensor

/// An unknown model name.
public struct UnknownModelError: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "unknown model '\(name)' (available: \(ModelZoo.names.joined(separator: ", ")))"
    }
}

/// The CIFAR architectures by their command-line names (RepDistiller / HSAKD spelling).
///
/// ```swift
/// var rng = RNG(seed: 0)
/// let net = try ModelZoo.make(name: "resnet20", inChannels: 3, classes: 100, rng: &rng)
/// let (logits, taps, pooled) = try net.forwardWithTaps(x)   // taps: 16@32, 32@16, 64@8
/// ```
public enum ModelZoo {
    /// Every name ``make(name:inChannels:classes:rng:)`` accepts.
    public static let names: [String] = [
        "resnet20", "resnet32", "resnet56", "resnet110", "resnet8x4", "resnet32x4",
        "wrn_16_2", "wrn_40_1", "wrn_40_2",
        "ShuffleV1", "ShuffleV2", "MobileNetV2",
        "vgg8_bn", "vgg13_bn", "preact_resnet18",
    ]

    /// The canonical spelling of `name` (matching is case-insensitive; `vgg8`/`vgg13`
    /// mean the BN variants, as in RepDistiller's model table), or nil.
    public static func canonicalName(_ name: String) -> String? {
        let lower = name.lowercased()
        let aliases = ["vgg8": "vgg8_bn", "vgg13": "vgg13_bn", "preactresnet18": "preact_resnet18",
                       "mobilenetv2_6_0.5": "MobileNetV2"]
        if let alias = aliases[lower] { return alias }
        return names.first { $0.lowercased() == lower }
    }

    /// A freshly initialised model (weights drawn from `rng`).
    ///
    /// - Parameters:
    ///   - name: one of ``names`` (case-insensitive)
    ///   - inChannels: image channels (3 for CIFAR, 1 for MNIST-like data)
    ///   - classes: classifier width
    public static func make(name: String, inChannels: Int = 3, classes: Int, rng: inout RNG) throws -> StagedNetwork {
        guard let canonical = canonicalName(name) else { throw UnknownModelError(name: name) }
        let (c, k) = (inChannels, classes)
        switch canonical {
        case "resnet20", "resnet32", "resnet56", "resnet110":
            let depth = Int(canonical.dropFirst("resnet".count))!
            return cifarResNet(name: canonical, depth: depth, filters: [16, 16, 32, 64], inChannels: c, classes: k, rng: &rng)
        case "resnet8x4":
            return cifarResNet(name: canonical, depth: 8, filters: [32, 64, 128, 256], inChannels: c, classes: k, rng: &rng)
        case "resnet32x4":
            return cifarResNet(name: canonical, depth: 32, filters: [32, 64, 128, 256], inChannels: c, classes: k, rng: &rng)
        case "wrn_16_2":
            return wideResNet(name: canonical, depth: 16, widen: 2, inChannels: c, classes: k, rng: &rng)
        case "wrn_40_1":
            return wideResNet(name: canonical, depth: 40, widen: 1, inChannels: c, classes: k, rng: &rng)
        case "wrn_40_2":
            return wideResNet(name: canonical, depth: 40, widen: 2, inChannels: c, classes: k, rng: &rng)
        case "ShuffleV1":
            return shuffleNetV1(name: canonical, inChannels: c, classes: k, rng: &rng)
        case "ShuffleV2":
            return shuffleNetV2(name: canonical, inChannels: c, classes: k, rng: &rng)
        case "MobileNetV2":
            return mobileNetV2(name: canonical, expansion: 6, width: 0.5, inChannels: c, classes: k, rng: &rng)
        case "vgg8_bn":
            return vgg(name: canonical, config: vgg8Config, inChannels: c, classes: k, rng: &rng)
        case "vgg13_bn":
            return vgg(name: canonical, config: vgg13Config, inChannels: c, classes: k, rng: &rng)
        case "preact_resnet18":
            return preActResNet18(name: canonical, inChannels: c, classes: k, rng: &rng)
        default:
            throw UnknownModelError(name: name)
        }
    }
}
