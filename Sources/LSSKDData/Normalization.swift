/// Per-channel mean and standard deviation of a dataset's pixels scaled to [0, 1],
/// computed from the training split and applied to every split.
public struct ChannelNormalization: Sendable, Equatable, Codable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// Statistics of `dataset` (double accumulators; population standard deviation).
    public init(statisticsOf dataset: ImageDataset) {
        let c = dataset.channels, plane = dataset.height * dataset.width
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        dataset.pixels.withUnsafeBufferPointer { px in
            for i in 0..<dataset.count {
                for ch in 0..<c {
                    let base = (i * c + ch) * plane
                    var s: UInt64 = 0, s2: UInt64 = 0
                    for j in 0..<plane {
                        let v = UInt64(px[base + j])
                        s += v
                        s2 += v * v
                    }
                    sum[ch] += Double(s)
                    sq[ch] += Double(s2)
                }
            }
        }
        let n = Double(max(1, dataset.count * plane))
        mean = (0..<c).map { Float(sum[$0] / n / 255) }
        std = (0..<c).map { ch in
            let m = sum[ch] / n
            let variance = max(0, sq[ch] / n - m * m)
            return Float(max(variance.squareRoot(), 1e-3) / 255)
        }
    }
}
