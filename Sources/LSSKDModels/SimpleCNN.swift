import LSSKDNN
import LSSKDTensor

/// A small plain CNN for the demo run and tests: three conv-BN-ReLU blocks (the last two
/// at stride 2), global average pooling and a linear classifier. Any input size, any
/// channel count.
public final class SimpleCNN: Module {
    public let features: Sequential
    public let classifier: Linear

    public init(inChannels: Int, classes: Int, width: Int = 32, rng: inout RNG) {
        func block(_ i: Int, _ o: Int, stride: Int, _ rng: inout RNG) -> [Module] {
            [Conv2d(inChannels: i, outChannels: o, kernelSize: 3, stride: stride, padding: 1, bias: false,
                    initialization: .kaimingNormalFanOut, rng: &rng),
             BatchNorm2d(o), ReLU()]
        }
        features = Sequential(block(inChannels, width, stride: 1, &rng) + block(width, 2 * width, stride: 2, &rng)
                              + block(2 * width, 4 * width, stride: 2, &rng) + [GlobalAvgPool()])
        classifier = Linear(inFeatures: 4 * width, outFeatures: classes, rng: &rng)
        super.init()
    }

    public override var children: [(String, Module)] { [("features", features), ("classifier", classifier)] }

    public override func forward(_ x: Variable) throws -> Variable {
        try classifier(try features(x))  // GAP already gives [N, C]
    }
}
