/// Images held as bytes, NCHW, with integer labels: the form every loader produces.
/// Conversion to normalised Float32 batches happens in the batching code, so a dataset
/// of 50,000 32x32 RGB images costs 150 MB, not 600 MB.
///
/// Subsets (``prefix(_:)``, ``subset(_:)``, the stratified splits in `Splits.swift`) keep
/// each sample's index in the set the loader produced (``originalIndices``), so that
/// per-sample state (the distillation memories) is keyed the same way whatever subset a
/// run trains on; ``Batch/indices`` reports these indices.
public struct ImageDataset: Sendable {
    /// Pixels, [count, channels, height, width], 0...255.
    public var pixels: [UInt8]
    /// Labels in 0..<classCount, one per image.
    public var labels: [Int32]
    public let channels: Int
    public let height: Int
    public let width: Int
    public let classCount: Int
    /// For each sample, its index in the dataset as loaded (0..<``originalCount``);
    /// `0..<count` for a freshly loaded dataset.
    public private(set) var originalIndices: [Int]
    /// The number of samples of the dataset as loaded (an upper bound of ``originalIndices``).
    public private(set) var originalCount: Int
    /// Class names, in label order, when the source has them (image folders).
    public var classNames: [String]?

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }

    public init(pixels: [UInt8], labels: [Int32], channels: Int, height: Int, width: Int, classCount: Int) {
        precondition(pixels.count == labels.count * channels * height * width, "pixel count does not match labels")
        self.pixels = pixels
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = classCount
        originalIndices = Array(0..<labels.count)
        originalCount = labels.count
    }

    /// The first `n` images (all if n >= count).
    public func prefix(_ n: Int) -> ImageDataset {
        subset(Array(0..<min(max(n, 0), count)))
    }

    /// The samples at `positions` (positions in this dataset, in the order given; repeats
    /// allowed), keeping their original indices, class names and ``originalCount``.
    public func subset(_ positions: [Int]) -> ImageDataset {
        let size = imageSize
        var px = [UInt8](repeating: 0, count: positions.count * size)
        var ys = [Int32](), orig = [Int]()
        ys.reserveCapacity(positions.count)
        orig.reserveCapacity(positions.count)
        px.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for (row, p) in positions.enumerated() {
                    precondition(p >= 0 && p < count, "subset position \(p) out of range 0..<\(count)")
                    if size > 0 {
                        (dst.baseAddress! + row * size).update(from: src.baseAddress! + p * size, count: size)
                    }
                }
            }
        }
        for p in positions {
            ys.append(labels[p])
            orig.append(originalIndices[p])
        }
        var out = ImageDataset(pixels: px, labels: ys, channels: channels, height: height, width: width,
                               classCount: classCount)
        out.originalIndices = orig
        out.originalCount = originalCount
        out.classNames = classNames
        return out
    }

    /// The positions of each class's samples, in dataset order (`[classCount][k]`).
    public func positionsByClass() -> [[Int]] {
        var byClass = [[Int]](repeating: [], count: classCount)
        for (i, y) in labels.enumerated() { byClass[Int(y)].append(i) }
        return byClass
    }
}
