import LSSKDData
import LSSKDTrain
import LSSKDModels
import LSSKDNN
import LSSKDTensor

/// LSSKD's auxiliary branch after one stage (LSSKD.md "Auxiliary branches"): fresh copies
/// of the later stages (or of the last stage at stride 1 after the last stage), a fresh
/// copy of the model's head, global average pooling, and a linear layer to the N*M joint
/// classes. Parameter names: `trunk.…`, `head.…`, `classifier.weight/bias`.
public final class AuxiliaryBranch: Module {
    public let trunk: Module
    public let head: Module
    public let classifier: Linear

    /// The branch that takes the output of `model.stages[stage]` (0-based).
    public init(model: StagedModel, after stage: Int, jointClasses: Int, rng: inout RNG) {
        trunk = model.makeBranchTrunk(after: stage, rng: &rng)
        head = model.makeHead(rng: &rng)
        classifier = Linear(inFeatures: model.pooledWidth, outFeatures: jointClasses, rng: &rng)
        super.init()
    }

    public override var children: [(String, Module)] { [("trunk", trunk), ("head", head), ("classifier", classifier)] }

    /// - Parameter tap: the stage output `[R, C_s, H_s, W_s]`
    /// - Returns: pooled feature `[R, pooledWidth]` and joint logits `[R, N*M]`.
    public func features(_ tap: Variable) throws -> (pooled: Variable, logits: Variable) {
        let pooled = try globalAvgPool(try head(try trunk(tap)))
        return (pooled, try classifier(pooled))
    }

    public override func forward(_ x: Variable) throws -> Variable { try features(x).logits }
}

/// The auxiliary branches of a staged model as one unit: built (for LSSKD and SAD), named
/// as in checkpoints (`aux.<stage>.<…>`), and scored — so that evaluating a checkpoint's
/// branches needs no training method.
public enum AuxiliaryBranches {
    /// One fresh branch per stage of `model`, predicting `classes * rotations` joint classes,
    /// and the list that names them.
    public static func build(for model: StagedModel, classes: Int, rotations: Int, rng: inout RNG) -> ([AuxiliaryBranch], ModuleList) {
        var built = [AuxiliaryBranch]()
        for s in 0..<model.stageCount {
            built.append(AuxiliaryBranch(model: model, after: s, jointClasses: classes * rotations, rng: &rng))
        }
        return (built, ModuleList(built))
    }

    /// Top-1 class accuracy of each branch on unrotated images, `"branch1"`…: each class's
    /// `rotations` joint logits summed (LSSKD.md). Model and branches run in evaluation mode;
    /// their previous modes are restored.
    public static func accuracy(model: StagedModel, branches: [AuxiliaryBranch], list: ModuleList, rotations: Int,
                                on loader: BatchLoader) throws -> [String: Double] {
        let wasTraining = (model.isTraining, list.isTraining)
        model.eval()
        list.eval()
        defer {
            model.train(wasTraining.0)
            list.train(wasTraining.1)
        }
        var correct = [Int](repeating: 0, count: branches.count), seen = 0
        try Autograd.withNoGrad {
            try loader.forEachBatch(epoch: 0) { _, batch in
                let (_, taps, _) = try model.forwardWithTaps(Variable(batch.images))
                for (s, branch) in branches.enumerated() {
                    let joint = try branch(taps[s]).value
                    correct[s] += topKCorrect(try LSSKD.classLogits(joint, rotations: rotations), labels: batch.labels).top1
                }
                seen += batch.labels.count
            }
        }
        var out = [String: Double]()
        for s in branches.indices { out["branch\(s + 1)"] = Double(correct[s]) / Double(max(seen, 1)) }
        return out
    }

    /// The accuracy of the branches stored in a checkpoint (`aux.*` state without the
    /// prefix) for `model`; nil when the state holds no branches.
    public static func accuracy(model: StagedModel, classes: Int, state: [String: Tensor], on loader: BatchLoader) throws -> [String: Double]? {
        guard !state.isEmpty else { return nil }
        var rng = RNG(seed: 0)
        let (branches, list) = build(for: model, classes: classes, rotations: LSSKD.rotations, rng: &rng)
        try list.loadStateDict(state)
        return try accuracy(model: model, branches: branches, list: list, rotations: LSSKD.rotations, on: loader)
    }
}
