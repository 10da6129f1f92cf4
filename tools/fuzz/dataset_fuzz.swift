// libFuzzer target over the dataset decoders (IDX images + labels, CIFAR-10/100 binary).
// Input: byte 0 chooses the format (even: IDX, 1 mod 4: CIFAR-10, 3 mod 4: CIFAR-100); for IDX
// bytes 1-2 (little-endian) give the length of the images part, the rest is the labels file.
// Built and run by tools/fuzz/run.sh. A DataError is the expected answer to a bad input.
@_cdecl("LLVMFuzzerTestOneInput")
public func datasetFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let kind = bytes.first else { return 0 }
    if kind % 2 == 0 {
        guard bytes.count >= 3 else { return 0 }
        let split = min(bytes.count - 3, Int(bytes[1]) | Int(bytes[2]) << 8)
        let images = Array(bytes[3..<(3 + split)]), labels = Array(bytes[(3 + split)...])
        if let d = try? IDXFormat.decode(images: images, labels: labels, imagesName: "i", labelsName: "l", classCount: 10) {
            precondition(d.pixels.count == d.labels.count * d.height * d.width)
        }
    } else {
        var pixels = [UInt8](), labels = [Int32]()
        if (try? CIFARFormat.decode(Array(bytes.dropFirst()), name: "c", cifar100: kind % 4 == 3, pixels: &pixels, labels: &labels)) != nil {
            precondition(pixels.count == labels.count * 3072)
        }
    }
    return 0
}
