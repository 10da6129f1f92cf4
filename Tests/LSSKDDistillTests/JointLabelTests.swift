import XCTest
import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDistill

final class JointLabelTests: XCTestCase {
    /// Joint label of image i, class y, rotation j is 4y + j at row 4i + j (image-major).
    func testJointLabelsAreImageMajor() {
        XCTAssertEqual(RotationExpansion.jointLabels([2, 0, 99]),
                       [8, 9, 10, 11, 0, 1, 2, 3, 396, 397, 398, 399])
        XCTAssertEqual(RotationExpansion.unrotatedRows(count: 3), [0, 4, 8])
    }

    /// A branch's class logit is the sum of the class's M joint logits 4y..4y+3.
    func testClassLogitsSumEachClassesJointLogits() throws {
        let joint = Tensor(shape: [2, 8], scalars: [1, 2, 3, 4, 10, 0, 0, 0,
                                                    0, 0, 0, -1, 0.5, 0.5, 0.5, 0.5])
        let c = try LSSKD.classLogits(joint, rotations: 4)
        XCTAssertEqual(c.shape, [2, 2])
        XCTAssertEqual(c.scalars, [10, 10, -1, 2])
    }

    /// Per-branch accuracy at evaluation: one entry per branch, each the top-1 of the summed
    /// joint logits, computed in evaluation mode without touching the modes it found.
    func testBranchAccuracyAtEvaluation() throws {
        let ds = syntheticDataset(count: 12, size: 8, classes: 3)
        var (net, rng) = try tinyResNet()
        let method = LSSKD(model: net, classes: 3, sampleIndices: ds.originalIndices, rng: &rng)
        let l = loader(ds, batch: 4)
        net.train(); method.auxiliary!.train()
        let acc = try method.evaluateAuxiliary(model: net, on: l)
        XCTAssertEqual(Set(acc.keys), Set((1...net.stageCount).map { "branch\($0)" }))
        // Recompute branch 1's accuracy by hand from its joint logits.
        net.eval(); method.auxiliary!.eval()
        var correct = 0
        try Autograd.withNoGrad {
            try l.forEachBatch(epoch: 0) { _, batch in
                let (_, taps, _) = try net.forwardWithTaps(Variable(batch.images))
                let z = try method.branches[0](taps[0]).value
                for (r, y) in batch.labels.enumerated() {
                    let sums = (0..<3).map { c in (0..<4).reduce(Float(0)) { $0 + z.scalars[r * 12 + c * 4 + $1] } }
                    if sums.indices.max(by: { sums[$0] < sums[$1] }) == y { correct += 1 }
                }
            }
        }
        XCTAssertEqual(acc["branch1"]!, Double(correct) / 12, accuracy: 1e-12)
        net.train(); method.auxiliary!.train()
        _ = try method.evaluateAuxiliary(model: net, on: l)
        XCTAssertTrue(net.isTraining && method.auxiliary!.isTraining)
    }
}
