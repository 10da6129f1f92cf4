import Foundation
import SwiftProtobuf

/// TensorBoard event files: `RUN/tb/events.out.tfevents.TIME.HOST`, one `Event` protobuf
/// (swift-protobuf, messages generated from tools/proto/tensorboard_event.proto) per
/// record, in TFRecord framing:
///
///     u64 length, u32 masked CRC-32C(length), length bytes of data, u32 masked CRC-32C(data)
///
/// (little-endian; mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8). The first record names
/// the format version (`brain.Event:2`); each epoch adds one event of scalars at step
/// `epoch + 1`. Point TensorBoard at `RUN/tb` (or a folder of runs) to plot them.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle

    /// Starts a new event file in `folder` (created if needed).
    public init(folder: URL, time: Date = Date()) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
        url = folder.appendingPathComponent("events.out.tfevents.\(Int(time.timeIntervalSince1970)).\(host)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let h = try? FileHandle(forWritingTo: url) else {
            throw RunFolderError("cannot write TensorBoard events in \(folder.path)")
        }
        handle = h
        var event = Tensorboard_Event()
        event.wallTime = time.timeIntervalSince1970
        event.fileVersion = "brain.Event:2"
        try write(event)
    }

    deinit { try? handle.close() }

    /// One event of scalars (`tag`, value) at `step`.
    public func add(scalars: [(tag: String, value: Double)], step: Int, wallTime: Double) throws {
        var event = Tensorboard_Event()
        event.wallTime = wallTime
        event.step = Int64(step)
        var summary = Tensorboard_Summary()
        summary.value = scalars.map { s in
            var v = Tensorboard_Summary.Value()
            v.tag = s.tag
            v.simpleValue = Float(s.value)
            return v
        }
        event.summary = summary
        try write(event)
    }

    /// The scalars of one epoch's metrics.
    public func add(_ m: EpochMetrics, wallTime: Double) throws {
        var s: [(tag: String, value: Double)] = [("train/loss", m.trainLoss), ("train/top1", m.trainTop1),
                                                 ("train/learning_rate", Double(m.learningRate)),
                                                 ("time/epoch_seconds", m.seconds), ("time/images_per_second", m.imagesPerSecond)]
        for (name, v) in (m.terms ?? [:]).sorted(by: { $0.key < $1.key }) { s.append(("loss/\(name)", v)) }
        if let t = m.test {
            s += [("\(m.evalSet)/top1", t.top1), ("\(m.evalSet)/top5", t.top5), ("\(m.evalSet)/loss", t.loss), ("\(m.evalSet)/ece", t.ece)]
        }
        for (name, v) in (m.auxiliaryTop1 ?? [:]).sorted(by: { $0.key < $1.key }) { s.append(("\(m.evalSet)/\(name)_top1", v)) }
        try add(scalars: s, step: m.epoch + 1, wallTime: wallTime)
    }

    private func write(_ event: Tensorboard_Event) throws {
        let data: Data = try event.serializedData()
        try handle.write(contentsOf: Self.record(data))
    }

    /// `data` in TFRecord framing.
    static func record(_ data: Data) -> Data {
        var out = Data()
        var length = UInt64(data.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Data($0) }
        func appendLE(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        out.append(lengthBytes)
        appendLE(masked(crc32c(lengthBytes)))
        out.append(data)
        appendLE(masked(crc32c(data)))
        return out
    }

    static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8 }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord uses. Written here:
    /// zlib has only the gzip CRC-32, and event files are small (one record per epoch).
    static func crc32c(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc = crc32cTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crc32cTable: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }
}
