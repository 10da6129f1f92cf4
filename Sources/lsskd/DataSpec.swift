import ArgumentParser
import LSSKDData

/// `--data KIND:DIR`: which loader reads which folder.
struct DataSpec: ExpressibleByArgument, CustomStringConvertible {
    enum Kind: String, CaseIterable { case fashionMNIST = "fashion-mnist", mnist, cifar10, cifar100 }
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

    func load(train: Bool) throws -> ImageDataset {
        switch kind {
        case .fashionMNIST, .mnist: return try IDXLoader.load(directory: directory, split: train ? "train" : "t10k")
        case .cifar10: return try CIFARLoader.load(directory: directory, variant: .cifar10, train: train)
        case .cifar100: return try CIFARLoader.load(directory: directory, variant: .cifar100, train: train)
        }
    }
}

/// A run-time problem (unwritable path, missing checkpoint): printed as "Error: …" without usage.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
