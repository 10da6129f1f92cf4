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
