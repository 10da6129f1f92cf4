import XCTest
import LSSKDTensor
@testable import LSSKDNN

final class BufferPoolSteadyStateTests: XCTestCase {
    /// After warm-up, a full training step (forward, loss, backward, SGD with momentum)
    /// takes every tensor buffer from the pool: zero misses.
    func testTrainingStepAllocatesNothingAfterWarmup() throws {
        let (images, labels) = orientedBars(count: 16, seed: 3)
        var rng = RNG(seed: 2024)
        let conv = Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, rng: &rng)
        let block = TinyBlock(4, rng: &rng)
        let fc = Linear(inFeatures: 4, outFeatures: 4, rng: &rng)
        let net = Sequential([
            conv, BatchNorm2d(4), ReLU(), MaxPool2d(kernelSize: 2), block,
            AvgPool2d(kernelSize: 3, stride: 1, padding: 1), GlobalAvgPool(), Flatten(), fc,
        ])
        let sgd = try SGD(net, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
        func step() throws {
            sgd.zeroGrad()
            let logits = try net(Variable(images))
            let kd = try softmaxCrossEntropy(logits: logits, targets: try softmax(logits.value, temperature: 4),
                                             temperature: 4, scale: 16)
            let loss = try sum([try crossEntropy(logits: logits, labels: labels), kd])
            try loss.backward()
            try sgd.step()
        }
        for _ in 0..<2 { try step() }
        let pool = BufferPool.shared
        pool.resetCounters()
        for _ in 0..<3 { try step() }
        let s = pool.statistics
        XCTAssertEqual(s.misses, 0, "\(s)")
        XCTAssertGreaterThan(s.hits, 50, "\(s)")
        print("steady-state step: \(s.hits / 3) pooled buffers per step, 0 misses; \(s)")
    }
}
