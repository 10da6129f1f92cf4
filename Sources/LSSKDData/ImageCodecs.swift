import CImageCodecs
import Foundation

/// An 8-bit image as decoded, interleaved: `pixels[(y * width + x) * channels + c]`,
/// `channels` 1 (grey) or 3 (RGB).
public struct DecodedImage: Sendable, Equatable {
    public var pixels: [UInt8]
    public var width: Int
    public var height: Int
    public var channels: Int

    public init(pixels: [UInt8], width: Int, height: Int, channels: Int) {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        precondition(pixels.count == width * height * channels, "pixel count does not match the size")
        self.pixels = pixels
        self.width = width
        self.height = height
        self.channels = channels
    }
}

/// PNG and JPEG through libpng and libjpeg-turbo (the C target `CImageCodecs`).
public enum ImageCodec {
    public enum Format: String, Sendable { case png, jpeg }

    /// The format announced by the first bytes (PNG signature, JPEG SOI marker), if any.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// Decodes PNG or JPEG bytes (chosen by content, not by file name). Grey files give
    /// one channel, colour files three; alpha is dropped. Errors name `path`.
    public static func decode(_ bytes: [UInt8], path: String) throws -> DecodedImage {
        guard let format = sniff(bytes) else {
            if bytes.isEmpty { throw DataError(path, "empty file, not a PNG or JPEG image") }
            let head = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw DataError(path, "not a PNG or JPEG image (starts with \(head))")
        }
        var image = lsk_image()
        var message = [CChar](repeating: 0, count: 512)
        let status = bytes.withUnsafeBufferPointer { data in
            message.withUnsafeMutableBufferPointer { err in
                format == .png
                    ? lsk_image_decode_png(data.baseAddress, data.count, &image, err.baseAddress, err.count)
                    : lsk_image_decode_jpeg(data.baseAddress, data.count, &image, err.baseAddress, err.count)
            }
        }
        guard status == 0 else {
            throw DataError(path, String(cString: message))
        }
        defer { lsk_image_free(&image) }
        let w = Int(image.width), h = Int(image.height), c = Int(image.channels)
        let pixels = [UInt8](UnsafeBufferPointer(start: image.pixels, count: w * h * c))
        return DecodedImage(pixels: pixels, width: w, height: h, channels: c)
    }

    /// Encodes an image as PNG (lossless) or JPEG (`quality` 1...100), for tests and tools.
    public static func encode(_ image: DecodedImage, as format: Format, quality: Int = 95) throws -> [UInt8] {
        try encode(pixels: image.pixels, width: image.width, height: image.height, channels: image.channels,
                   as: format, quality: quality)
    }

    /// Interleaved pixels `[height, width, channels]`; JPEG also takes 4 channels (CMYK,
    /// stored as given with an Adobe marker, i.e. read back as inverted CMYK).
    static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int, as format: Format,
                       quality: Int = 95) throws -> [UInt8] {
        precondition(pixels.count == width * height * channels, "pixel count does not match the size")
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 512)
        let status = pixels.withUnsafeBufferPointer { px in
            message.withUnsafeMutableBufferPointer { err in
                format == .png
                    ? lsk_image_encode_png(px.baseAddress, Int32(width), Int32(height), Int32(channels),
                                           &out, &size, err.baseAddress, err.count)
                    : lsk_image_encode_jpeg(px.baseAddress, Int32(width), Int32(height), Int32(channels),
                                            Int32(quality), &out, &size, err.baseAddress, err.count)
            }
        }
        guard status == 0, let bytes = out else {
            throw DataError("<\(format.rawValue) encoder>", String(cString: message))
        }
        defer { lsk_image_free_bytes(bytes) }
        return [UInt8](UnsafeBufferPointer(start: bytes, count: size))
    }
}
