import XCTest
@testable import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
@testable import LSSKDTrain

final class CutMixLossTests: XCTestCase {
    /// The trainer's CutMix loss has the value and gradient of lambda*CE(a) + (1-lambda)*CE(b).
    func testMixedTargetEqualsWeightedSumOfCrossEntropies() throws {
        var rng = RNG(seed: 1)
        let logitsValue = Tensor(shape: [3, 5], scalars: (0..<15).map { _ in rng.uniform(-3, 3) })
        let batch = Batch(images: Tensor(zeros: [3, 1, 1, 1]), labels: [0, 4, 2], indices: [0, 1, 2],
                          labelsB: [1, 4, 3], lambda: 0.3)
        let ds = ImageDataset(pixels: [0], labels: [0], channels: 1, height: 1, width: 1, classCount: 5)
        let loader = BatchLoader(dataset: ds, batchSize: 1, normalization: ChannelNormalization(mean: [0], std: [1]),
                                 shuffle: false, dropLast: false, seed: 0)
        let model = SimpleCNN(inChannels: 1, classes: 5, width: 2, rng: &rng)
        let trainer = try ClassifierTrainer(model: model, train: loader, test: nil,
                                            config: TrainConfig(epochs: 1, schedule: .constant(0.1)), metricsURL: nil)

        let mixed = Variable(logitsValue, requiresGrad: true)
        let lossMixed = try trainer.classificationLoss(mixed, batch)
        try lossMixed.backward()

        let separate = Variable(logitsValue, requiresGrad: true)
        let la = try crossEntropy(logits: separate, labels: batch.labels)
        let lb = try crossEntropy(logits: separate, labels: batch.labelsB!)
        let lossSum = try sum([try la * 0.3, try lb * 0.7])
        try lossSum.backward()

        XCTAssertEqual(lossMixed.value.scalar, lossSum.value.scalar, accuracy: 1e-5)
        for (g, h) in zip(mixed.grad!.scalars, separate.grad!.scalars) { XCTAssertEqual(g, h, accuracy: 1e-6) }
        XCTAssertGreaterThan(abs(lossMixed.value.scalar - la.value.scalar), 1e-3, "the mix must differ from CE(a) alone")
    }
}
