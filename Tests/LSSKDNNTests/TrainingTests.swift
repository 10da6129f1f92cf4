import XCTest
import Foundation
import LSSKDTensor
@testable import LSSKDNN

/// Oriented bars on a noisy 12x12 image: 0 horizontal, 1 vertical, 2 diagonal,
/// 3 anti-diagonal; a bar of length 5 at a random position. Seeded.
func orientedBars(count: Int, seed: UInt64) -> (images: Tensor, labels: [Int]) {
    var rng = RNG(seed: seed)
    let side = 12, len = 5
    var images = Tensor(zeros: [count, 1, side, side])
    var labels: [Int] = []
    images.withUnsafeMutableBufferPointer { p in
        for n in 0..<count {
            let label = n % 4
            labels.append(label)
            let base = n * side * side
            for i in 0..<(side * side) { p[base + i] = rng.normal(mean: 0, std: 0.15) }
            let (dy, dx) = [(0, 1), (1, 0), (1, 1), (1, -1)][label]
            let y0 = rng.nextInt(below: side - (dy != 0 ? len - 1 : 0))
            let x0 = dx < 0 ? len - 1 + rng.nextInt(below: side - len + 1)
                            : rng.nextInt(below: side - (dx != 0 ? len - 1 : 0))
            for k in 0..<len { p[base + (y0 + k * dy) * side + (x0 + k * dx)] += 1 }
        }
    }
    return (images, labels)
}

/// conv-bn-relu x2 (second conv stride 2), global average pool, linear.
func barsNet(seed: UInt64) -> Sequential {
    var rng = RNG(seed: seed)
    return Sequential([
        Conv2d(inChannels: 1, outChannels: 8, kernelSize: 3, padding: 1, bias: false,
               initialization: .kaimingNormalFanOut, rng: &rng),
        BatchNorm2d(8), ReLU(),
        Conv2d(inChannels: 8, outChannels: 16, kernelSize: 3, stride: 2, padding: 1, bias: false,
               initialization: .kaimingNormalFanOut, rng: &rng),
        BatchNorm2d(16), ReLU(),
        GlobalAvgPool(),
        Linear(inFeatures: 16, outFeatures: 4, rng: &rng),
    ])
}

/// Rows `indices` of `[N, ...]` gathered into a batch (bookkeeping copy).
func gather(_ t: Tensor, _ indices: ArraySlice<Int>) -> Tensor {
    let row = t.count / t.shape[0]
    var out = Tensor(uninitialized: [indices.count] + t.shape.dropFirst())
    t.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for (k, i) in indices.enumerated() {
                dst.baseAddress!.advanced(by: k * row).update(from: src.baseAddress!.advanced(by: i * row), count: row)
            }
        }
    }
    return out
}

final class TrainingTests: XCTestCase {
    func testSmallCNNLearnsOrientedBars() throws {
        let (images, labels) = orientedBars(count: 256, seed: 42)
        let net = barsNet(seed: 7)
        let batch = 32, epochs = 12
        let schedule = LRSchedule.cosine(0.1, totalEpochs: epochs)
        let sgd = try SGD(net, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4)
        var rng = RNG(seed: 99)
        let start = Date()
        var lastLoss: Float = .nan
        for epoch in 0..<epochs {
            sgd.learningRate = schedule.learningRate(epoch: epoch)
            let order = rng.permutation(images.shape[0])
            for b in stride(from: 0, to: order.count, by: batch) {
                let idx = order[b..<min(b + batch, order.count)]
                let x = Variable(gather(images, idx))
                sgd.zeroGrad()
                let loss = try crossEntropy(logits: try net(x), labels: idx.map { labels[$0] })
                try loss.backward()
                try sgd.step()
                lastLoss = loss.value.scalar
            }
        }
        let seconds = Date().timeIntervalSince(start)
        net.eval()
        let logits = try Autograd.withNoGrad { try net(Variable(images)) }
        let predicted = argmaxRows(logits.value)
        let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
        print("oriented bars: training accuracy \(accuracy), last loss \(lastLoss), \(String(format: "%.2f", seconds)) s for \(epochs) epochs")
        XCTAssertGreaterThan(accuracy, 0.95)
        XCTAssertLessThan(seconds, 60, "training took \(seconds) s")
    }
}
