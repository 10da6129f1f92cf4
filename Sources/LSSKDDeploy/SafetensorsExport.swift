import Foundation
import LSSKDTrain
import LSSKDTensor

/// The backbone's state dictionary as a safetensors file (https://github.com/huggingface/safetensors):
/// 8-byte little-endian header length, a JSON header (`__metadata__` with the model
/// description; per tensor `dtype` F32, `shape`, `data_offsets` into the data), the data.
/// Names are the module paths of the model zoo (`stages.0.0.conv1.weight`, `…bn1.running_mean`),
/// batch norm unfolded: what a PyTorch port of the architecture loads with `load_state_dict`.
public enum SafetensorsExport {
    public static func header(_ archive: ModelArchive) throws -> (json: Data, names: [String]) {
        let d = archive.description
        var meta: [String: String] = ["format": "pt", "architecture": d.model, "in_channels": "\(d.inChannels)",
                                      "classes": "\(d.classes)", "image_size": "\(d.imageSize)",
                                      "norm_mean": d.normMean.map { "\($0)" }.joined(separator: ","),
                                      "norm_std": d.normStd.map { "\($0)" }.joined(separator: ","),
                                      "epochs_trained": "\(archive.epochsDone)", "method": d.method]
        if let c = d.classNames { meta["class_names"] = c.joined(separator: "\n") }
        var header: [String: Any] = ["__metadata__": meta]
        let state = archive.state(.model)
        let names = archive.order.filter { $0.hasPrefix("model.") }.map { String($0.dropFirst(6)) }
        var offset = 0
        for name in names {
            let t = state[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so that the data starts 8-byte aligned (the format allows trailing spaces).
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        return (json, names)
    }

    public static func write(_ archive: ModelArchive, to path: String) throws {
        let (json, names) = try header(archive)
        let state = archive.state(.model)
        try AtomicFile.write(to: path) { handle in
            var prefix = Data()
            withUnsafeBytes(of: UInt64(json.count).littleEndian) { prefix.append(contentsOf: $0) }
            prefix.append(json)
            try handle.write(contentsOf: prefix)
            for name in names {
                let t = state[name]!
                var bytes = Data(capacity: 4 * t.count)
                for v in t.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                try handle.write(contentsOf: bytes)
            }
        }
    }
}
