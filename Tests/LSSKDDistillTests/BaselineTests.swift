import XCTest
@testable import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDistill

final class BaselineTests: XCTestCase {
    /// klDivergence's value is KL(t || softmax(z / T)) * scale and its gradient that of the
    /// soft-target cross-entropy.
    func testKLDivergenceValueAndGradient() throws {
        let z = Tensor(shape: [2, 3], scalars: [1, -0.5, 2, 0.3, 0.1, -1])
        let t = Tensor(shape: [2, 3], scalars: [0.2, 0.5, 0.3, 0.6, 0.3, 0.1])
        let v = Variable(z, requiresGrad: true)
        let kl = try klDivergence(logits: v, targets: t, temperature: 2, scale: 4)
        let q = try softmax(z, temperature: 2).scalars, ts = t.scalars
        var want = 0.0
        for k in 0..<6 { want += Double(ts[k]) * log(Double(ts[k]) / Double(q[k])) }
        XCTAssertEqual(Double(kl.value.scalar), 4 * want / 2, accuracy: 1e-5)
        try kl.backward()
        let w = Variable(z, requiresGrad: true)
        try softmaxCrossEntropy(logits: w, targets: t, temperature: 2, scale: 4).backward()
        XCTAssertEqual(v.grad!.scalars, w.grad!.scalars)
        XCTAssertEqual(Double(try klDivergence(logits: Variable(z), targets: try softmax(z, temperature: 2), temperature: 2).value.scalar), 0, accuracy: 1e-6)
    }

    func testLabelSmoothingTarget() throws {
        let z = Variable(Tensor(shape: [1, 4], scalars: [0, 0, 0, 0]))
        let batch = Batch(images: Tensor(zeros: [1, 1, 1, 1]), labels: [2], indices: [0])
        // Uniform logits: CE = log 4 whatever the target (it sums to one).
        XCTAssertEqual(try CrossEntropyMethod(smoothing: 0.1).loss(z, batch).value.scalar, log(4), accuracy: 1e-6)
        let z2 = Variable(Tensor(shape: [1, 4], scalars: [0, 0, 5, 0]))
        let p = try softmax(z2.value).scalars
        let want = -(0.925 * log(p[2]) + 0.025 * (log(p[0]) + log(p[1]) + log(p[3])))
        XCTAssertEqual(try CrossEntropyMethod(smoothing: 0.1).loss(z2, batch).value.scalar, want, accuracy: 1e-5)
    }

    func testVirtualTeacher() throws {
        let t = try TeacherFreeKD().teacher(labels: [1], classes: 4).scalars
        // softmax([0.01/3, 0.99, 0.01/3, 0.01/3] / 20)
        let s = [0.01 / 3, 0.99, 0.01 / 3, 0.01 / 3].map { exp($0 / 20) }
        let z = s.reduce(0, +)
        for k in 0..<4 { XCTAssertEqual(Double(t[k]), s[k] / z, accuracy: 1e-6) }
    }

    /// CS-KD pairs each sample with another sample of its class.
    func testCSKDPartnersShareTheClass() throws {
        let ds = syntheticDataset(count: 12, size: 8, classes: 3)
        let l = loader(ds, batch: 4, shuffle: true)
        let service = ClassPartners(loader: l)
        let batch = l.batch(epoch: 0, index: 0)
        let partners = service.partners(of: batch.indices, labels: batch.labels, epoch: 0, step: 0)
        XCTAssertEqual(service.partnerBatch(for: batch, epoch: 0, step: 0).labels, batch.labels, "partners share the anchors' classes")
        for (k, p) in partners.enumerated() {
            XCTAssertEqual(Int(ds.labels[p]), batch.labels[k])
            XCTAssertNotEqual(ds.originalIndices[p], batch.indices[k])
        }
    }
}
