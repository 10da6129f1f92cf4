import XCTest
import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDistill

final class GradientFlowTests: XCTestCase {
    private func setUp(_ config: LSSKDConfig) throws -> (StagedNetwork, LSSKD, StepOutput) {
        let ds = syntheticDataset(count: 4, size: 8, classes: 3)
        var (net, rng) = try tinyResNet()
        let method = LSSKD(model: net, classes: 3, sampleIndices: ds.originalIndices, config: config, rng: &rng)
        net.train(); method.auxiliary!.train()
        net.zeroGrad(); method.auxiliary!.zeroGrad()
        let out = try method.step(model: net, batch: loader(ds, batch: 2).batch(epoch: 0, index: 0), epoch: 0, epochs: 2)
        return (net, method, out)
    }

    private func term(_ out: StepOutput, _ name: String) throws -> Variable {
        try XCTUnwrap(out.terms.first { $0.name == name }?.value, "no term \(name)")
    }

    private func hasGradient(_ m: Module) -> Bool {
        m.parameters().contains { p in p.grad.map { $0.scalars.contains { $0 != 0 } } ?? false }
    }

    /// L_FEAT's target is the detached backbone feature: with detached branch inputs the
    /// backbone gets no gradient from L_FEAT at all (only the branches learn from it).
    func testFeatureTargetIsDetached() throws {
        var c = LSSKDConfig()
        c.detachBranchInputs = true
        let (net, method, out) = try setUp(c)
        try term(out, "feat").backward()
        XCTAssertFalse(hasGradient(net), "the backbone's pooled feature must receive no gradient from L_FEAT")
        for b in method.branches { XCTAssertTrue(hasGradient(b.trunk)) }
    }

    /// By default the branches take the stage outputs without detaching: L_FEAT reaches the
    /// backbone through them (the same check as above must then see gradients).
    func testBranchInputsAreAttachedByDefault() throws {
        let (net, _, out) = try setUp(LSSKDConfig())
        try term(out, "feat").backward()
        XCTAssertTrue(hasGradient(net.stages[0]))
    }

    /// The deepest branch teaches in L_KL and learns nothing from it; shallower ones learn.
    func testDeepestBranchGetsNoKLGradient() throws {
        let (_, method, out) = try setUp(LSSKDConfig())
        try term(out, "kl").backward()
        XCTAssertFalse(hasGradient(method.branches[2]), "the teacher's distribution is a stop-gradient target")
        XCTAssertTrue(hasGradient(method.branches[0].classifier))
        XCTAssertTrue(hasGradient(method.branches[1].classifier))
    }

    func testChainedKL() throws {
        var c = LSSKDConfig()
        c.klTeacher = .chain
        let (_, method, out) = try setUp(c)
        try term(out, "kl").backward()
        XCTAssertFalse(hasGradient(method.branches[2]))
        XCTAssertTrue(hasGradient(method.branches[1].classifier), "in a chain the middle branch is a student of the deepest")
    }

    /// The logged KL is tau^2 KL(q_teacher || q_s) (CE minus the teacher's entropy): it
    /// equals a direct computation from the branch logits.
    func testKLValueIsKL() throws {
        let ds = syntheticDataset(count: 4, size: 8, classes: 3)
        var (net, rng) = try tinyResNet()
        let method = LSSKD(model: net, classes: 3, sampleIndices: ds.originalIndices, rng: &rng)
        net.train(); method.auxiliary!.train()
        let batch = loader(ds, batch: 2).batch(epoch: 0, index: 0)
        let out = try Autograd.withNoGrad { try method.step(model: net, batch: batch, epoch: 0, epochs: 2) }
        // Recompute the branches' logits in train mode with the same input (BN: batch statistics).
        let x = try RotationExpansion.expand(batch.images)
        let (_, taps, _) = try Autograd.withNoGrad { try net.forwardWithTaps(Variable(x)) }
        let z = try Autograd.withNoGrad { try (0..<3).map { try method.branches[$0].features(taps[$0]).logits.value } }
        let tau: Float = 3
        let teacher = try softmax(z[2], temperature: tau).scalars
        var kl = 0.0
        for s in 0..<2 {
            let student = try softmax(z[s], temperature: tau).scalars
            for k in 0..<teacher.count where teacher[k] > 0 {
                kl += Double(teacher[k]) * (log(Double(teacher[k])) - log(Double(student[k])))
            }
        }
        kl = Double(tau * tau) * kl / Double(z[0].shape[0])
        XCTAssertEqual(Double(try term(out, "kl").value.scalar), kl, accuracy: 1e-3 * max(1, abs(kl)))
        XCTAssertGreaterThan(kl, 0)
    }

    /// Export / evaluation use the backbone only: the branches never enter the model's
    /// parameters, and their counts match LSSKD.md's table (resnet20, N = 100).
    func testBackboneAndBranchParameterCounts() throws {
        var rng = RNG(seed: 1)
        let net = try ModelZoo.make(name: "resnet20", inChannels: 3, classes: 100, rng: &rng)
        let before = net.parameterCount
        let method = LSSKD(model: net, classes: 100, sampleIndices: Array(0..<10), rng: &rng)
        XCTAssertEqual(net.parameterCount, before)
        XCTAssertEqual(before, 278_324)  // LSSKD.md: 0.278M
        XCTAssertEqual(method.auxiliary!.parameterCount, 762_992)  // LSSKD.md: 0.763M
        let names = Set(net.namedParameters().map(\.0))
        XCTAssertTrue(method.auxiliary!.namedParameters().allSatisfy { !names.contains("aux." + $0.0) })
    }
}
