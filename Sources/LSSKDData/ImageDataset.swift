/// Images held as bytes, NCHW, with integer labels: the form every loader produces.
/// Conversion to normalised Float32 batches happens in the batching code, so a dataset
/// of 50,000 32x32 RGB images costs 150 MB, not 600 MB.
public struct ImageDataset: Sendable {
    /// Pixels, [count, channels, height, width], 0...255.
    public var pixels: [UInt8]
    /// Labels in 0..<classCount, one per image.
    public var labels: [Int32]
    public let channels: Int
    public let height: Int
    public let width: Int
    public let classCount: Int

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
    }

    /// The first `n` images (all if n >= count).
    public func prefix(_ n: Int) -> ImageDataset {
        let k = min(n, count)
        return ImageDataset(pixels: Array(pixels[0..<(k * imageSize)]), labels: Array(labels[0..<k]),
                            channels: channels, height: height, width: width, classCount: classCount)
    }
}
