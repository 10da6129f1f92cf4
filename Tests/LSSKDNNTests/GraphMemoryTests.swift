import XCTest
import LSSKDTensor
@testable import LSSKDNN

/// The graph keeps gradient nodes, never the variables (and so never the values) of an op's
/// inputs: an intermediate that no backward closure saved is freed as soon as the caller
/// drops it, during the forward pass. A closure that captures an input variable instead of
/// its node (`{ dy in x.withGradient … }` without `[x = x.node]`) fails here.
final class GraphMemoryTests: XCTestCase {
    /// For every differentiable op: its input, an intermediate that requires a gradient, is
    /// deallocated once the caller's last reference goes, while the op's output (and so the
    /// graph) is alive; the backward pass then still reaches the leaf below it.
    func testOpsDoNotKeepTheirInputVariables() throws {
        var rng = RNG(seed: 11)
        let w3 = param([4, 4, 3, 3], &rng), b4 = param([4], &rng)
        let gamma = param([4], &rng), beta = param([4], &rng)
        let rm = Variable(Tensor(zeros: [4])), rv = Variable(Tensor(ones: [4]))
        let fcW = param([3, 4 * 4 * 4], &rng), fcB = param([3], &rng)
        let other = param([2, 4, 4, 4], &rng)
        let ops: [(String, (Variable) throws -> Variable)] = [
            ("conv2d", { try conv2d($0, weight: w3, bias: b4, padding: (1, 1)) }),
            ("conv2d depthwise", { try conv2d($0, weight: param([4, 1, 3, 3], &rng), padding: (1, 1), groups: 4) }),
            ("batchNorm train", { try batchNorm($0, weight: gamma, bias: beta, runningMean: rm, runningVar: rv, training: true) }),
            ("batchNorm eval", { try batchNorm($0, weight: gamma, bias: beta, runningMean: rm, runningVar: rv, training: false) }),
            ("relu", { try relu($0) }),
            ("add", { try $0 + other }),
            ("scale", { try $0 * 0.5 }),
            ("sum", { try sum([$0, other]) }),
            ("globalAvgPool", { try globalAvgPool($0) }),
            ("maxPool2d", { try maxPool2d($0, kernel: (2, 2)) }),
            ("avgPool2d", { try avgPool2d($0, kernel: (3, 3), stride: (1, 1), padding: (1, 1)) }),
            ("reshape", { try reshape($0, [2, -1]) }),
            ("linear", { try linear(try flatten($0), weight: fcW, bias: fcB) }),
            ("concatChannels", { try concatChannels([$0, other, other]) }),
            ("concatShuffle", { try concatShuffle($0, other, groups: 2) }),
            ("sliceChannels", { try sliceChannels($0, 1..<3) }),
            ("channelShuffle", { try channelShuffle($0, groups: 2) }),
            ("mseLoss", { try mseLoss($0, other) }),
            ("softmaxCrossEntropy", { try crossEntropy(logits: try flatten($0), labels: [1, 5]) }),
            ("softmaxKL", { let f = try flatten($0); return try softmaxKL(student: f, teacher: f.value, temperature: 2) }),
        ]
        for (name, op) in ops {
            let leaf = param([2, 4, 4, 4], &rng)
            weak var weakMid: Variable?
            var out: Variable
            do {
                let mid = try leaf * 2  // an intermediate (op output) requiring a gradient
                weakMid = mid
                out = try op(mid)
            }
            XCTAssertNil(weakMid, "\(name): the graph keeps its input variable (and its value) alive")
            let flat = try reshape(out, [1, -1])
            let total = try linear(flat, weight: Variable(Tensor(ones: [1, flat.shape[1]])))
            try total.backward(seed: Tensor(ones: total.shape))
            XCTAssertNotNil(leaf.grad, "\(name): no gradient reached the leaf")
        }
    }

    /// A residual block's forward pass holds fewer bytes when its intermediates are dropped:
    /// the batch-norm outputs and the pre-ReLU sum are not saved by any backward closure.
    func testResidualBlockFreesUnsavedIntermediates() throws {
        var rng = RNG(seed: 5)
        let x = Variable(Tensor.uniform([8, 8, 16, 16], low: -1, high: 1, rng: &rng))
        let w1 = param([8, 8, 3, 3], &rng), w2 = param([8, 8, 3, 3], &rng)
        let g = param([8], &rng), b = param([8], &rng)
        let rm = Variable(Tensor(zeros: [8])), rv = Variable(Tensor(ones: [8]))
        func bn(_ v: Variable) throws -> Variable {
            try batchNorm(v, weight: g, bias: b, runningMean: rm, runningVar: rv, training: true)
        }
        let pool = BufferPool.shared
        let before = pool.statistics.bytesInUse
        let out = try relu(try bn(try conv2d(try relu(try bn(try conv2d(x, weight: w1, padding: (1, 1)))), weight: w2,
                                             padding: (1, 1))) + x)
        let held = pool.statistics.bytesInUse - before
        let activation = BufferPool.sizeClass(x.value.count * 4)
        // Saved: conv1 out (bn1), relu1 out (relu1, conv2), conv2 out (bn2), the output (relu2);
        // freed: bn1 out, bn2 out, the sum. Small tensors (statistics) are below one activation.
        XCTAssertLessThan(held, 5 * activation, "forward holds \(held) B, \(Double(held) / Double(activation)) activations")
        XCTAssertGreaterThanOrEqual(held, 4 * activation)
        try out.backward(seed: Tensor(ones: out.shape))
        XCTAssertNotNil(w1.grad)
    }
}
