import XCTest
import LSSKDTensor
@testable import LSSKDNN

final class OptimizerTests: XCTestCase {
    /// A parameter p = [1, -2] whose gradient is set to g = [0.5, 0.25] every step.
    private func run(steps: Int, momentum: Float, nesterov: Bool, weightDecay: Float) throws -> (Variable, SGD) {
        let p = Variable(Tensor(shape: [2], scalars: [1, -2]), requiresGrad: true)
        let sgd = try SGD(parameters: [("p", p)], learningRate: 0.1, momentum: momentum, nesterov: nesterov,
                          weightDecay: weightDecay)
        for _ in 0..<steps {
            sgd.zeroGrad()
            try p.addGradient(Tensor(shape: [2], scalars: [0.5, 0.25]))
            try sgd.step()
        }
        return (p, sgd)
    }

    // Expected values computed by hand (PyTorch's update rule, written out below):
    //   g' = g + wd p;  v = m v + g';  p -= lr * (nesterov ? g' + m v : v)
    func testPlainSGDWithWeightDecay() throws {
        // step 1: p = [1 - 0.1 * 0.51, -2 - 0.1 * 0.23]; step 2: g' = [0.50949, 0.22977]
        let (p, _) = try run(steps: 2, momentum: 0, nesterov: false, weightDecay: 0.01)
        XCTAssertEqual(p.value[flat: 0], 0.898051, accuracy: 1e-6)
        XCTAssertEqual(p.value[flat: 1], -2.045977, accuracy: 1e-6)
    }

    func testMomentum() throws {
        // step 1: v = [0.51, 0.23], p = [0.949, -2.023]
        // step 2: v = 0.9 v + [0.50949, 0.22977] = [0.96849, 0.43677], p = [0.852151, -2.066677]
        let (p1, _) = try run(steps: 1, momentum: 0.9, nesterov: false, weightDecay: 0.01)
        XCTAssertEqual(p1.value.scalars[0], 0.949, accuracy: 1e-6)
        XCTAssertEqual(p1.value.scalars[1], -2.023, accuracy: 1e-6)
        let (p, sgd) = try run(steps: 2, momentum: 0.9, nesterov: false, weightDecay: 0.01)
        XCTAssertEqual(p.value[flat: 0], 0.852151, accuracy: 1e-6)
        XCTAssertEqual(p.value[flat: 1], -2.066677, accuracy: 1e-6)
        XCTAssertEqual(sgd.velocity[0]!.scalars[0], 0.96849, accuracy: 1e-6)
        XCTAssertEqual(sgd.velocity[0]!.scalars[1], 0.43677, accuracy: 1e-6)
    }

    func testNesterov() throws {
        // step 1: g' = v = [0.51, 0.23], step = g' + 0.9 v = [0.969, 0.437], p = [0.9031, -2.0437]
        // step 2: g' = [0.509031, 0.229563], v = [0.968031, 0.436563],
        //         step = [1.3802589, 0.6224697], p = [0.76507411, -2.10594697]
        let (p1, _) = try run(steps: 1, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        XCTAssertEqual(p1.value[flat: 0], 0.9031, accuracy: 1e-6)
        XCTAssertEqual(p1.value[flat: 1], -2.0437, accuracy: 1e-6)
        let (p, _) = try run(steps: 2, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        XCTAssertEqual(p.value[flat: 0], 0.76507411, accuracy: 1e-6)
        XCTAssertEqual(p.value[flat: 1], -2.10594697, accuracy: 1e-6)
    }

    func testInvalidSettingsThrow() {
        let p = Variable(Tensor(zeros: [1]), requiresGrad: true)
        XCTAssertThrowsError(try SGD(parameters: [("p", p)], learningRate: 0.1, momentum: 0, nesterov: true))
        XCTAssertThrowsError(try SGD(parameters: [("p", p)], learningRate: 0.1, momentum: -1))
    }

    func testParametersWithoutGradientAreSkippedAndDecayMask() throws {
        let a = Variable(Tensor(shape: [1], scalars: [1]), requiresGrad: true)
        let b = Variable(Tensor(shape: [1], scalars: [1]), requiresGrad: true)
        let c = Variable(Tensor(shape: [1], scalars: [1]), requiresGrad: true)
        let sgd = try SGD(parameters: [("a", a), ("bn.bias", b), ("c", c)], learningRate: 1, momentum: 0.5,
                          weightDecay: 0.1, decays: { !$0.hasPrefix("bn.") })
        try a.addGradient(Tensor(zeros: [1]))
        try b.addGradient(Tensor(zeros: [1]))
        try sgd.step()
        XCTAssertEqual(a.value[flat: 0], 0.9, accuracy: 1e-7)  // decayed
        XCTAssertEqual(b.value[flat: 0], 1)                    // not decayed
        XCTAssertEqual(c.value[flat: 0], 1)                    // no gradient: untouched
        XCTAssertNil(sgd.velocity[2])
    }

    func testMomentumStateRoundTripResumesExactly() throws {
        func grad(_ step: Int) -> Tensor { Tensor(shape: [3], scalars: [Float(step), 1, -0.5 * Float(step)]) }
        func make() throws -> (Variable, SGD) {
            let p = Variable(Tensor(shape: [3], scalars: [0.3, -0.1, 2]), requiresGrad: true)
            return (p, try SGD(parameters: [("w", p)], learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4))
        }
        let (p, sgd) = try make()
        for s in 0..<4 { sgd.zeroGrad(); try p.addGradient(grad(s)); try sgd.step() }

        let (q, sgd2) = try make()
        for s in 0..<2 { sgd2.zeroGrad(); try q.addGradient(grad(s)); try sgd2.step() }
        // "checkpoint" after 2 steps, restore into fresh objects
        let savedParam = q.value
        let savedState = Dictionary(uniqueKeysWithValues: sgd2.stateDict())
        XCTAssertEqual(Array(savedState.keys), ["momentum.w"])
        let (r, sgd3) = try make()
        r.value = savedParam
        try sgd3.loadStateDict(savedState)
        for s in 2..<4 { sgd3.zeroGrad(); try r.addGradient(grad(s)); try sgd3.step() }
        XCTAssertEqual(r.value.scalars, p.value.scalars)

        XCTAssertThrowsError(try sgd3.loadStateDict(["momentum.nope": Tensor(zeros: [3])]))
        XCTAssertThrowsError(try sgd3.loadStateDict(["momentum.w": Tensor(zeros: [4])]))
    }

    // MARK: - Schedules

    func testConstantAndStep() {
        XCTAssertEqual(LRSchedule.constant(0.1).learningRate(epoch: 57), 0.1)
        let s = LRSchedule.step(0.1, stepSize: 30, gamma: 0.1)
        XCTAssertEqual(s.learningRate(epoch: 0), 0.1, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 29), 0.1, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 30), 0.01, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 65), 0.001, accuracy: 1e-9)
    }

    func testMultiStep() {
        let s = LRSchedule.multiStep(0.1, milestones: [150, 225], gamma: 0.1)
        XCTAssertEqual(s.learningRate(epoch: 149), 0.1, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 150), 0.01, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 224), 0.01, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 225), 0.001, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 299, step: 10, stepsPerEpoch: 50), 0.001, accuracy: 1e-9)
    }

    func testCosine() {
        let s = LRSchedule.cosine(0.1, totalEpochs: 200)
        XCTAssertEqual(s.learningRate(epoch: 0), 0.1)
        XCTAssertEqual(s.learningRate(epoch: 50), 0.1 * (1 + Float(cos(Double.pi / 4))) / 2, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(epoch: 100), 0.05, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 200), 0)
        let m = LRSchedule.cosine(0.1, totalEpochs: 10, minLR: 0.001)
        XCTAssertEqual(m.learningRate(epoch: 10), 0.001, accuracy: 1e-9)
        XCTAssertEqual(m.learningRate(epoch: 5), 0.0505, accuracy: 1e-7)
        // Per step: halfway through epoch 0 of 2 epochs is t = 0.25.
        XCTAssertEqual(LRSchedule.cosine(1, totalEpochs: 2).learningRate(epoch: 0, step: 5, stepsPerEpoch: 10),
                       Float((1 + cos(Double.pi * 0.25)) / 2), accuracy: 1e-7)
    }

    func testCosineWithWarmup() {
        let s = LRSchedule.cosine(0.1, totalEpochs: 10, warmupEpochs: 2)
        let spe = 5
        XCTAssertEqual(s.learningRate(epoch: 0, step: 0, stepsPerEpoch: spe), 0.01, accuracy: 1e-9)   // 1/10
        XCTAssertEqual(s.learningRate(epoch: 0, step: 4, stepsPerEpoch: spe), 0.05, accuracy: 1e-9)   // 5/10
        XCTAssertEqual(s.learningRate(epoch: 1, step: 4, stepsPerEpoch: spe), 0.1, accuracy: 1e-9)    // 10/10
        XCTAssertEqual(s.learningRate(epoch: 2, step: 0, stepsPerEpoch: spe), 0.1, accuracy: 1e-9)    // cosine t = 0
        XCTAssertEqual(s.learningRate(epoch: 6, step: 0, stepsPerEpoch: spe), 0.05, accuracy: 1e-7)   // t = 20/40
        XCTAssertEqual(s.learningRate(epoch: 9, step: 4, stepsPerEpoch: spe),
                       Float(0.05 * (1 + cos(Double.pi * 39 / 40))), accuracy: 1e-7)
        // Monotone after warm-up; a pure function (same inputs, same rate).
        var last = Float.infinity
        for e in 2..<10 { for st in 0..<spe {
            let lr = s.learningRate(epoch: e, step: st, stepsPerEpoch: spe)
            XCTAssertLessThanOrEqual(lr, last); last = lr
            XCTAssertEqual(lr, s.learningRate(epoch: e, step: st, stepsPerEpoch: spe))
        } }
        // Warm-up also applies to step schedules, which keep their milestones.
        let w = LRSchedule(baseLR: 0.2, kind: .multiStep(milestones: [3], gamma: 0.5), warmupEpochs: 1)
        XCTAssertEqual(w.learningRate(epoch: 0), 0.2, accuracy: 1e-9)  // 1 step per epoch: (0+1)/1
        XCTAssertEqual(w.learningRate(epoch: 0, step: 1, stepsPerEpoch: 4), 0.1, accuracy: 1e-9)
        XCTAssertEqual(w.learningRate(epoch: 3), 0.1, accuracy: 1e-9)
    }
}
