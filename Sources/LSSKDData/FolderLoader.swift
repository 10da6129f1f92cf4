import Foundation

/// A folder of images with one sub-folder per class (torchvision's `ImageFolder` layout):
///
///     DIR/cat/0001.png
///     DIR/cat/0002.jpg
///     DIR/dog/a.jpeg
///
/// Classes are the sub-folder names in sorted order (label = position). Images are the
/// files ending in `.png`, `.jpg` or `.jpeg` (any case) inside a class folder and its
/// sub-folders, in sorted path order; other files and hidden entries are skipped. The
/// format is recognised by content. Each image is decoded (grey, or RGB with alpha
/// dropped), resized to `height x width` with `filter`, then converted to `channels`.
///
/// Any unreadable or invalid image file stops the load with a ``DataError`` naming it,
/// as does a class folder that holds no images.
public enum FolderLoader {
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The class names of `directory`: its visible sub-folders, sorted.
    public static func classNames(in directory: String) throws -> [String] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir) else { throw DataError(directory, "no such folder") }
        guard isDir.boolValue else { throw DataError(directory, "not a folder") }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: directory) } catch {
            throw DataError(directory, "cannot be listed (\(error.localizedDescription))")
        }
        let names = entries.filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: directory + "/" + name, isDirectory: &d) && d.boolValue
        }.sorted()
        guard !names.isEmpty else {
            throw DataError(directory, "holds no class sub-folders (expected DIR/<class>/<image>.png|jpg)")
        }
        return names
    }

    /// Loads every image of `directory` at `height x width`.
    /// - Parameters:
    ///   - channels: 1 (grey) or 3 (RGB); nil: 3 if any image is in colour, else 1.
    ///   - classNames: the label order to use (e.g. the training split's classes when
    ///     loading a test split); every sub-folder must be one of them, and classes with no
    ///     sub-folder simply have no images. nil: the sorted sub-folders of `directory`.
    public static func load(directory: String, height: Int, width: Int, channels: Int? = nil,
                            filter: ResizeFilter = .area, classNames: [String]? = nil) throws -> ImageDataset {
        precondition(height > 0 && width > 0, "image size must be positive")
        precondition(channels == nil || channels == 1 || channels == 3, "channels must be 1 or 3")
        let folders = try Self.classNames(in: directory)
        let classes = classNames ?? folders
        let labelOf = Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var files = [(path: String, label: Int)]()
        for name in folders {
            guard let label = labelOf[name] else {
                throw DataError(directory + "/" + name, "class \"\(name)\" is not one of the \(classes.count) training classes")
            }
            let found = try imageFiles(under: directory + "/" + name)
            guard !found.isEmpty else {
                throw DataError(directory + "/" + name, "class folder holds no PNG or JPEG images (.png, .jpg, .jpeg)")
            }
            files += found.map { ($0, label) }
        }

        let (pixels, c) = try loadImages(paths: files.map(\.path), height: height, width: width,
                                         channels: channels, filter: filter)
        var ds = ImageDataset(pixels: pixels, labels: files.map { Int32($0.label) }, channels: c,
                              height: height, width: width, classCount: classes.count)
        ds.classNames = classes
        return ds
    }

    /// Decodes and resizes image files (in parallel) into planar pixels
    /// `[paths.count, c, height, width]`, `c` = `channels` or, when nil, 3 if any image is in
    /// colour else 1. Errors name the file. Used by the folder loader and `lsskd predict`.
    public static func loadImages(paths: [String], height: Int, width: Int, channels: Int? = nil,
                                  filter: ResizeFilter = .area) throws -> (pixels: [UInt8], channels: Int) {
        precondition(channels == nil || channels == 1 || channels == 3, "channels must be 1 or 3")
        let plane = height * width
        // Each slot is written by one iteration only.
        var results = [Result<(pixels: [UInt8], channels: Int), DataError>?](repeating: nil, count: paths.count)
        results.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            DispatchQueue.concurrentPerform(iterations: paths.count) { i in
                base[i] = Result {
                    try decodeResized(path: paths[i], height: height, width: width, filter: filter)
                }.mapError { $0 as? DataError ?? DataError(paths[i], "\($0)") }
            }
        }
        var decoded = [(pixels: [UInt8], channels: Int)]()
        decoded.reserveCapacity(paths.count)
        for r in results { decoded.append(try r!.get()) }
        let c = channels ?? (decoded.contains { $0.channels == 3 } ? 3 : 1)
        var pixels = [UInt8]()
        pixels.reserveCapacity(paths.count * c * plane)
        for d in decoded { pixels += convertChannels(d.pixels, from: d.channels, to: c, plane: plane) }
        return (pixels, c)
    }

    /// Square images of `imageSize x imageSize`.
    public static func load(directory: String, imageSize: Int = 32, channels: Int? = nil,
                            filter: ResizeFilter = .area, classNames: [String]? = nil) throws -> ImageDataset {
        try load(directory: directory, height: imageSize, width: imageSize, channels: channels, filter: filter,
                 classNames: classNames)
    }

    /// Image files under `folder` (recursively, hidden entries skipped), sorted by path.
    static func imageFiles(under folder: String) throws -> [String] {
        let fm = FileManager.default
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: folder) } catch {
            throw DataError(folder, "cannot be listed (\(error.localizedDescription))")
        }
        var out = [String]()
        for name in entries.sorted() where !name.hasPrefix(".") {
            let path = folder + "/" + name
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                out += try imageFiles(under: path)
            } else if let dot = name.lastIndex(of: "."), imageExtensions.contains(name[name.index(after: dot)...].lowercased()) {
                out.append(path)
            }
        }
        return out
    }

    /// One image decoded and resized, planar `[channels, height, width]` in its own
    /// channel count (1 or 3).
    static func decodeResized(path: String, height: Int, width: Int, filter: ResizeFilter) throws -> (pixels: [UInt8], channels: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(path, "cannot be read") }
        let image = try ImageCodec.decode([UInt8](data), path: path)
        let c = image.channels, plane = image.width * image.height
        var planar = [UInt8](repeating: 0, count: c * plane)
        for i in 0..<plane {
            for ch in 0..<c { planar[ch * plane + i] = image.pixels[i * c + ch] }
        }
        let resized = resizePlanar(planar, channels: c, inHeight: image.height, inWidth: image.width,
                                   outHeight: height, outWidth: width, filter: filter)
        return (resized, c)
    }
}
