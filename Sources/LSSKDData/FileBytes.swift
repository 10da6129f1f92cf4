import CZlib
import Foundation

/// An error reading a dataset: names the file and says what is wrong with it.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "\(path): \(problem)" }
}

/// Reads a whole file, transparently gunzipping it when it starts with the gzip magic
/// (1f 8b). A truncated gzip stream is an error, not a short read.
public func readFileBytes(_ path: String) throws -> [UInt8] {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw DataError(path, FileManager.default.fileExists(atPath: path) ? "cannot be opened for reading" : "no such file")
    }
    let head = handle.readData(ofLength: 2)
    try? handle.close()
    if head.count == 2 && head[head.startIndex] == 0x1f && head[head.startIndex + 1] == 0x8b {
        return try gunzipFile(path)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DataError(path, "cannot be read")
    }
    return [UInt8](data)
}

private func gunzipFile(_ path: String) throws -> [UInt8] {
    guard let gz = gzopen(path, "rb") else { throw DataError(path, "cannot be opened as gzip") }
    defer { gzclose(gz) }
    gzbuffer(gz, 1 << 20)
    var out = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 22)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
        if n < 0 {
            var code: Int32 = 0
            let message = gzerror(gz, &code).map { String(cString: $0) } ?? "unknown error"
            throw DataError(path, "corrupt gzip data (\(message))")
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<Int(n)])
    }
    // gzread returns 0 both at a clean end and when the stream was cut short; zlib
    // reports the latter through gzerror as Z_BUF_ERROR ("unexpected end of file").
    var code: Int32 = 0
    _ = gzerror(gz, &code)
    if code != Z_OK && code != Z_STREAM_END {
        throw DataError(path, "truncated gzip data (unexpected end of file)")
    }
    return out
}
