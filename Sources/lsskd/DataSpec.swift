import ArgumentParser
import Foundation
import LSSKDData
import LSSKDTrain

/// `--data KIND:DIR`: which loader reads which folder.
///
/// `folder:DIR` is a folder of PNG/JPEG images with one sub-folder per class. If DIR has a
/// `train` sub-folder, that is the training split and `DIR/test` (or else `DIR/val`), when
/// present, the test split; otherwise all of DIR is training data and there is no test split.
struct DataSpec: ExpressibleByArgument, CustomStringConvertible {
    enum Kind: String, CaseIterable { case fashionMNIST = "fashion-mnist", mnist, cifar10, cifar100, folder }

    /// How a `folder:` dataset's images are brought to one size and channel count.
    struct FolderOptions {
        var imageSize = 32
        /// 1 or 3; nil: 3 if any training image is in colour.
        var channels: Int? = nil
        var filter: ResizeFilter = .area
    }
    var kind: Kind
    var directory: String

    init?(argument: String) {
        guard let colon = argument.firstIndex(of: ":"),
              let kind = Kind(rawValue: String(argument[..<colon])) else { return nil }
        self.kind = kind
        directory = String(argument[argument.index(after: colon)...])
        if directory.isEmpty { return nil }
    }

    var description: String { "\(kind.rawValue):\(directory)" }

    static var defaultValueDescription: String { "fashion-mnist:/usr/share/datasets/fashion-mnist" }

    func load(train: Bool, folder: FolderOptions = FolderOptions()) throws -> ImageDataset {
        switch kind {
        case .fashionMNIST, .mnist: return try IDXLoader.load(directory: directory, split: train ? "train" : "t10k")
        case .cifar10: return try CIFARLoader.load(directory: directory, variant: .cifar10, train: train)
        case .cifar100: return try CIFARLoader.load(directory: directory, variant: .cifar100, train: train)
        case .folder:
            if train {
                return try FolderLoader.load(directory: folderTrainDirectory, imageSize: folder.imageSize,
                                             channels: folder.channels, filter: folder.filter)
            }
            guard let test = folderTestDirectory else { throw CLIError("\(directory) has no test split (DIR/train with DIR/test or DIR/val); use --val-split") }
            return try FolderLoader.load(directory: test, imageSize: folder.imageSize, channels: folder.channels,
                                         filter: folder.filter, classNames: FolderLoader.classNames(in: folderTrainDirectory))
        }
    }

    /// The data's identity for run records: each file's size and CRC-32 (an image folder:
    /// its file list and sizes).
    func identity() throws -> DataIdentity {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw CLIError("\(directory): no such data folder (--data \(description))")
        }
        if kind == .folder { return DataIdentity.ofTree(directory, spec: description) }
        do { return try DataIdentity.ofFiles(in: directory, spec: description) } catch {
            throw CLIError("\(directory): cannot list the data folder (\(error.localizedDescription))")
        }
    }

    /// False for a `folder:` dataset without a test split.
    var hasTestSplit: Bool { kind != .folder || folderTestDirectory != nil }

    private static func isFolder(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    private var folderTrainDirectory: String {
        Self.isFolder(directory + "/train") ? directory + "/train" : directory
    }

    private var folderTestDirectory: String? {
        guard Self.isFolder(directory + "/train") else { return nil }
        return ["test", "val"].map { directory + "/" + $0 }.first(where: Self.isFolder)
    }
}

/// A run-time problem (unwritable path, missing checkpoint): printed as "Error: …" without usage.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// One line of JSON with sorted keys (machine-readable output of `--json`).
func jsonLine(_ object: [String: Any]) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}
