import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// LSSKD's configuration (`shared/method/LSSKD.md`). The defaults are the contract's; every
/// ambiguity the contract lists is a named option.
public struct LSSKDConfig: Sendable, Equatable {
    /// Which branch teaches branch s in L_KL.
    public enum KLTeacher: String, CaseIterable, Sendable {
        /// The deepest branch teaches every shallower one (default).
        case deepest
        /// Branch s+1 teaches branch s.
        case chain
    }
    /// How L_FEAT reduces the squared differences of the pooled features.
    public enum FeatureReduction: String, CaseIterable, Sendable {
        /// Mean over all 4B x C elements (`mse_loss`; default).
        case mean
        /// Sum over the C channels, mean over rows (C times larger).
        case sumChannels = "sum"
    }

    /// a_T of the progressive schedule a_e = a_T (e+1)/E (0: hard labels throughout).
    public var alphaT: Float = 0.8
    /// Weight of L_KL.
    public var beta: Float = 1
    /// Weight of L_FEAT.
    public var gamma: Float = 1
    /// Temperature of L_KL (memories and cross-entropies use 1).
    public var tau: Float = 3
    /// Feed the branches detached stage outputs (the backbone then learns nothing from them).
    public var detachBranchInputs = false
    public var klTeacher: KLTeacher = .deepest
    public var featureReduction: FeatureReduction = .mean
    public var memoryPrecision: MemoryPrecision = .half
    /// Warm-up of the itself-supervised terms (not in the spec; a recipe option): beta and
    /// gamma are scaled by min(1, e / W) at epoch e, from 0 at the first epoch to their full
    /// value at epoch W, as a_e ramps the soft targets. 0: no warm-up (the spec).
    public var itselfSupervisedWarmupEpochs = 0

    public init() {}

    /// The factor of beta and gamma at `epoch` (see ``itselfSupervisedWarmupEpochs``).
    public func itselfSupervisedRamp(epoch: Int) -> Float {
        guard itselfSupervisedWarmupEpochs > 0 else { return 1 }
        return min(1, Float(epoch) / Float(itselfSupervisedWarmupEpochs))
    }

    /// HSAKD-style SAD heads with hard labels: L_CE + L_SAD, a_T = 0, beta = gamma = 0.
    public static var sad: LSSKDConfig {
        var c = LSSKDConfig()
        c.alphaT = 0
        c.beta = 0
        c.gamma = 0
        return c
    }
}

/// Layered self-supervised self-distillation (LSSKD.md, "Losses"). Each step:
/// 1. expands the B images to 4B (rotations 0, 90, 180, 270; image-major) and runs the
///    backbone on all of them (BatchNorm statistics include the rotated copies);
/// 2. runs one ``AuxiliaryBranch`` per stage on the stage outputs (not detached unless
///    ``LSSKDConfig/detachBranchInputs``), each predicting the N*4 joint classes;
/// 3. returns the terms `ce` (L_CE, rotation-0 rows), `sad` (L_SAD), `kl` (beta L_KL) and
///    `feat` (gamma L_FEAT) — a term whose weight is 0 is left out — and the rotation-0 logits;
/// 4. writes the train-mode predictions (softmax at T = 1) to the memories P and Q_s.
///
/// Targets at epoch e > 0 mix the one-hot label with last epoch's memory row with weight
/// a_e = a_T (e+1)/E; at epoch 0 (and for a sample not seen yet) they are one-hot.
public final class LSSKD: TrainingMethod {
    public static let rotations = 4
    public let name: String
    public let config: LSSKDConfig
    public let classes: Int
    public let branches: [AuxiliaryBranch]
    let branchList: ModuleList
    /// The backbone the branches were built for (the trainer passes it to every step).
    public let network: StagedModel
    /// P: `[samples, N]` (nil when a_T = 0: no soft targets, nothing to remember).
    public let finalMemory: PredictionMemory?
    /// Q_s: `[samples, 4 * 4N]` per branch (the four rotations of one image contiguous).
    public let branchMemories: [PredictionMemory]

    /// - Parameters:
    ///   - model: the backbone (its stages define the branches)
    ///   - classes: N
    ///   - sampleIndices: the samples the memories hold (the training set's ``ImageDataset/originalIndices``)
    ///   - rng: draws the branches' weights
    public init(model: StagedModel, classes: Int, sampleIndices: [Int], config: LSSKDConfig = LSSKDConfig(),
                name: String = "lsskd", rng: inout RNG) {
        self.name = name
        self.config = config
        self.classes = classes
        network = model
        let (built, list) = AuxiliaryBranches.build(for: model, classes: classes, rotations: Self.rotations, rng: &rng)
        branches = built
        branchList = list
        if config.alphaT > 0 {
            finalMemory = PredictionMemory(indices: sampleIndices, width: classes, precision: config.memoryPrecision)
            branchMemories = built.map { _ in
                PredictionMemory(indices: sampleIndices, width: Self.rotations * Self.rotations * classes, precision: config.memoryPrecision)
            }
        } else {
            finalMemory = nil
            branchMemories = []
        }
    }

    public var auxiliary: Module? { branchList }

    public var summary: String {
        let c = config
        var line = String(format: "a_T %.2f, beta %.2f, gamma %.2f, tau %.1f, kl-teacher %@, feat %@, %@ inputs",
                          c.alphaT, c.beta, c.gamma, c.tau, c.klTeacher.rawValue, c.featureReduction.rawValue,
                          c.detachBranchInputs ? "detached" : "attached")
        if c.itselfSupervisedWarmupEpochs > 0 { line += ", beta/gamma warm-up \(c.itselfSupervisedWarmupEpochs) epochs" }
        let bytes = (finalMemory.map { [$0] } ?? []).reduce(0) { $0 + $1.byteCount } + branchMemories.reduce(0) { $0 + $1.byteCount }
        if bytes > 0 { line += String(format: ", memories %.1f MB (%@)", Double(bytes) / 1e6, c.memoryPrecision.rawValue) }
        return line
    }

    /// a_e of `epoch`.
    public func alpha(epoch: Int, epochs: Int) -> Float {
        SoftTargets.alpha(alphaT: config.alphaT, epoch: epoch, epochs: epochs)
    }

    /// The final classifier's target over the 4B expanded rows `[4B, N]`: row 4i holds
    /// `(1-a_e) onehot(y_i) + a_e P[i]`, the rotated rows are zero (they contribute neither
    /// loss nor gradient to a soft-target cross-entropy).
    public func finalTargets(labels: [Int], indices: [Int], epoch: Int, epochs: Int) -> Tensor {
        let m = Self.rotations, n = classes, b = labels.count
        let a = alpha(epoch: epoch, epochs: epochs)
        var t = Tensor(zeros: [m * b, n])
        var scratch = [Float](repeating: 0, count: n)
        t.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in
                for i in 0..<b {
                    let q = SoftTargets.remembered(finalMemory, sample: indices[i], alpha: a, scratch: s.baseAddress!)
                    SoftTargets.fill(p.baseAddress! + m * i * n, width: n, label: labels[i], alpha: a, remembered: q)
                }
            }
        }
        return t
    }

    /// Branch `s`'s target `[4B, 4N]`: row 4i+j holds `(1-a_e) onehot(4 y_i + j) + a_e Q_s[i, j]`.
    public func branchTargets(_ s: Int, labels: [Int], indices: [Int], epoch: Int, epochs: Int) -> Tensor {
        let m = Self.rotations, w = m * classes, b = labels.count
        let a = alpha(epoch: epoch, epochs: epochs)
        let memory = branchMemories.isEmpty ? nil : branchMemories[s]
        var t = Tensor(uninitialized: [m * b, w])  // every row is filled below
        var scratch = [Float](repeating: 0, count: m * w)
        t.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { sp in
                for i in 0..<b {
                    // One read of the sample's four rotations (row j of the memory is rotation j).
                    let q = SoftTargets.remembered(memory, sample: indices[i], alpha: a, scratch: sp.baseAddress!)
                    for j in 0..<m {
                        SoftTargets.fill(p.baseAddress! + (m * i + j) * w, width: w, label: m * labels[i] + j, alpha: a,
                                         remembered: q.map { $0 + j * w })
                    }
                }
            }
        }
        return t
    }

    public func step(model: Module, batch: Batch, epoch: Int, epochs: Int) throws -> StepOutput {
        guard model === network else {
            throw MethodError(name, "step called with another model than the one the branches were built for")
        }
        let net = network
        guard batch.labelsB == nil else { throw MethodError("lsskd", "CutMix batches are not supported by this method") }
        let m = Self.rotations, b = batch.labels.count, n = classes
        let expanded = try RotationExpansion.expand(batch.images)
        let (logits, taps, pooled) = try net.forwardWithTaps(Variable(expanded))
        guard logits.shape == [m * b, n] else {
            throw MethodError("lsskd", "the model gives \(logits.shape[1]) classes, the method expects \(n)")
        }

        // 1, 3. L_CE on the rotation-0 rows: zero target rows elsewhere, scale M so that
        // the kernel's mean over 4B rows is the mean over the B plain rows.
        let ceTarget = finalTargets(labels: batch.labels, indices: batch.indices, epoch: epoch, epochs: epochs)
        let ce = try softmaxCrossEntropy(logits: logits, targets: ceTarget, scale: Float(m))
        var terms: [(name: String, value: Variable)] = [("ce", ce)]

        // 2, 4. Branches and L_SAD.
        var branchPooled = [Variable](), branchLogits = [Variable]()
        var sadTerms = [Variable]()
        for (s, branch) in branches.enumerated() {
            let input = config.detachBranchInputs ? taps[s].detached() : taps[s]
            let (h, z) = try branch.features(input)
            branchPooled.append(h)
            branchLogits.append(z)
            let target = branchTargets(s, labels: batch.labels, indices: batch.indices, epoch: epoch, epochs: epochs)
            sadTerms.append(try softmaxCrossEntropy(logits: z, targets: target))
        }
        terms.append(("sad", try sum(sadTerms)))

        // 6. L_KL: tau^2 KL(stopgrad(q_teacher) || q_s) = tau^2 (CE(q_t, q_s) - H(q_t)), both at tau.
        let depth = branches.count
        if config.beta != 0 && depth >= 2 {
            var klTerms = [Variable]()
            var entropy: Float = 0
            let t2 = config.tau * config.tau
            for s in 0..<(depth - 1) {
                let teacher = config.klTeacher == .deepest ? depth - 1 : s + 1
                let q = try softmax(branchLogits[teacher].value, temperature: config.tau)
                klTerms.append(try softmaxCrossEntropy(logits: branchLogits[s], targets: q,
                                                       temperature: config.tau, scale: t2))
                entropy += t2 * SoftTargets.meanEntropy(q)
            }
            klTerms.append(Variable(Tensor(-entropy)))
            terms.append(("kl", try sum(klTerms) * (config.beta * config.itselfSupervisedRamp(epoch: epoch))))
        }

        // 7. L_FEAT against the detached backbone feature of the same rotated input.
        if config.gamma != 0 {
            let target = pooled.detached()
            var featTerms = [Variable]()
            for h in branchPooled {
                var mse = try mseLoss(h, target)
                if config.featureReduction == .sumChannels { mse = try mse * Float(h.shape[1]) }
                featTerms.append(mse)
            }
            terms.append(("feat", try sum(featTerms) * (config.gamma * config.itselfSupervisedRamp(epoch: epoch))))
        }

        // Memories: train-mode predictions at T = 1, after the targets were read.
        let p4 = try softmax(logits.value)
        if let finalMemory {
            p4.withUnsafeBufferPointer { p in
                for i in 0..<b { finalMemory.write(batch.indices[i], from: p.baseAddress! + m * i * n) }
            }
            for (s, memory) in branchMemories.enumerated() {
                let q = try softmax(branchLogits[s].value)
                q.withUnsafeBufferPointer { p in
                    for i in 0..<b { memory.write(batch.indices[i], from: p.baseAddress! + m * i * m * n) }
                }
            }
        }
        return StepOutput(logits: try Self.unrotatedRows(logits.value, rotations: m), terms: terms,
                          probes: taps.enumerated().map { ("stage\($0.offset + 1)", $0.element) })
    }

    /// Per-branch class accuracy on unrotated images (LSSKD.md: a head's class prediction is
    /// the sum, per class, of its M joint logits). Model and branches in evaluation mode; the
    /// previous modes are restored.
    public func evaluateAuxiliary(model: Module, on loader: BatchLoader) throws -> [String: Double] {
        guard model === network else { return [:] }
        return try AuxiliaryBranches.accuracy(model: network, branches: branches, list: branchList, rotations: Self.rotations, on: loader)
    }

    /// Class logits `[R, N]` of joint logits `[R, N*M]` (class y's joint labels are y*M..y*M+M-1).
    static func classLogits(_ joint: Tensor, rotations m: Int) throws -> Tensor {
        let (rows, w) = (joint.shape[0], joint.shape[1])
        let n = w / m
        var out = Tensor(zeros: [rows, n])
        joint.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    for c in 0..<n {
                        var acc: Float = 0
                        for j in 0..<m { acc += src[r * w + c * m + j] }
                        dst[r * n + c] = acc
                    }
                }
            }
        }
        return out
    }

    /// Rows 0, M, 2M, … of `[M*B, C]`: `[B, C]`.
    static func unrotatedRows(_ x: Tensor, rotations m: Int) throws -> Tensor {
        let (rows, c) = (x.shape[0], x.shape[1])
        let b = rows / m
        var out = Tensor(uninitialized: [b, c])
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<b { (dst.baseAddress! + i * c).update(from: src.baseAddress! + m * i * c, count: c) }
            }
        }
        return out
    }

    public var replicatedMemories: [ReplicatedRows] { (finalMemory.map { [$0] } ?? []) + branchMemories }

    public func stateDict() -> [(String, Tensor)] {
        guard let finalMemory else { return [] }
        var out = finalMemory.stateDict(prefix: "memory.final")
        for (s, q) in branchMemories.enumerated() { out += q.stateDict(prefix: "memory.branch\(s)") }
        return out
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        guard let finalMemory else {
            guard state.isEmpty else { throw CheckpointError("checkpoint", "has memories, this configuration (a_T = 0) keeps none") }
            return
        }
        // Check every memory before modifying any.
        let expected = Set(stateDict().map(\.0))
        guard Set(state.keys) == expected else {
            throw CheckpointError("checkpoint", "memories \(state.keys.sorted()) do not match this configuration's \(expected.sorted())")
        }
        let probes = [("memory.final", finalMemory)] + branchMemories.enumerated().map { ("memory.branch\($0.offset)", $0.element) }
        for (prefix, memory) in probes {
            let n = memory.samples * memory.width
            let want = memory.precision == .half ? (n + 1) / 2 : n
            guard state[prefix + ".values"]?.count == want, state[prefix + ".written"]?.count == memory.samples else {
                throw CheckpointError("checkpoint", "memory \(prefix) has another size (different dataset, classes or --memory-precision)")
            }
        }
        for (prefix, memory) in probes { try memory.load(state, prefix: prefix) }
    }
}
