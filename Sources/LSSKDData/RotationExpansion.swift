import Foundation
import LSSKDTensor

/// The four-rotation expansion of the self-supervised (LSSKD) trainer: every image of a
/// batch followed by its rotations by 90, 180 and 270 degrees counter-clockwise
/// (`torch.rot90(x, j, dims=(2, 3))`), image-major:
/// `(x0, r0), (x0, r1), (x0, r2), (x0, r3), (x1, r0), ...`, with joint labels `4 y + j`.
public enum RotationExpansion {
    /// Writes the expansion of `x` `[B, C, S, S]` into `out` `[4B, C, S, S]` (allocated by
    /// the caller and reused across steps; every element is overwritten): row `4i + j` is
    /// `rot90(x[i], j)`. Large batches are split across threads by sample.
    public static func expand(_ x: Tensor, into out: inout Tensor) throws {
        guard x.rank == 4, x.shape[2] == x.shape[3] else {
            throw KernelError(operation: "RotationExpansion.expand", status: .invalidArgument,
                              detail: "input must be [B, C, S, S] (square images), got \(x.shape)")
        }
        let b = x.shape[0], c = x.shape[1], s = x.shape[2]
        guard out.shape == [4 * b, c, s, s] else {
            throw KernelError(operation: "RotationExpansion.expand", status: .invalidArgument,
                              detail: "output must be \([4 * b, c, s, s]), got \(out.shape)")
        }
        let size = c * s * s
        guard size > 0, b > 0 else { return }
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let sp = src.baseAddress!, dp = dst.baseAddress!
                let work = { (i: Int) in
                    for ch in 0..<c {
                        let plane = sp + i * size + ch * s * s
                        for j in 0..<4 {
                            ImageOps.rotatePlane(plane, dp + (4 * i + j) * size + ch * s * s, size: s, quarterTurns: j)
                        }
                    }
                }
                // Thread across samples only when the batch is worth it (4 MB written and more).
                if b >= 2 && 4 * b * size >= 1 << 20 {
                    let chunks = min(b, max(1, ProcessInfo.processInfo.activeProcessorCount))
                    DispatchQueue.concurrentPerform(iterations: chunks) { k in
                        for i in stride(from: k, to: b, by: chunks) { work(i) }
                    }
                } else {
                    for i in 0..<b { work(i) }
                }
            }
        }
    }

    /// The expansion of `x` in a new tensor `[4B, C, S, S]`.
    public static func expand(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4 else {
            throw KernelError(operation: "RotationExpansion.expand", status: .invalidArgument,
                              detail: "input must be [B, C, S, S], got \(x.shape)")
        }
        var out = Tensor(uninitialized: [4 * x.shape[0], x.shape[1], x.shape[2], x.shape[3]])
        try expand(x, into: &out)
        return out
    }

    /// Joint labels of the expansion: `4 * labels[i] + j` at row `4i + j`.
    public static func jointLabels(_ labels: [Int]) -> [Int] {
        labels.flatMap { y in (0..<4).map { 4 * y + $0 } }
    }

    /// Rotation labels of the expansion: `j` at row `4i + j`.
    public static func rotationLabels(count b: Int) -> [Int] {
        (0..<(4 * b)).map { $0 % 4 }
    }

    /// The rows of the expansion holding the unrotated images: `4i`.
    public static func unrotatedRows(count b: Int) -> [Int] {
        (0..<b).map { 4 * $0 }
    }

    /// Every image of `x` `[N, C, S, S]` rotated by `k` quarter turns counter-clockwise.
    public static func rotated(_ x: Tensor, quarterTurns k: Int) throws -> Tensor {
        guard x.rank == 4, x.shape[2] == x.shape[3] else {
            throw KernelError(operation: "RotationExpansion.rotated", status: .invalidArgument,
                              detail: "input must be [N, C, S, S] (square images), got \(x.shape)")
        }
        let s = x.shape[2], planes = x.shape[0] * x.shape[1]
        var out = Tensor(uninitialized: x.shape)
        guard x.count > 0 else { return out }
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<planes {
                    ImageOps.rotatePlane(src.baseAddress! + p * s * s, dst.baseAddress! + p * s * s, size: s, quarterTurns: k)
                }
            }
        }
        return out
    }
}
