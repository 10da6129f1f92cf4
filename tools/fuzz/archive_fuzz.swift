// libFuzzer target over the model/checkpoint container reader (ArchiveLayout.parse, which
// TensorArchive.read and every command use). Built and run by tools/fuzz/run.sh:
//   swiftc -sanitize=fuzzer,address -parse-as-library -I Sources/CZlib \
//       Sources/LSSKDTrain/ArchiveLayout.swift tools/fuzz/archive_fuzz.swift -o .build/fuzz/archive
// A crash, a trap or an address-sanitizer report is a finding; an ArchiveError is the
// expected answer to a bad input.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func archiveFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if let layout = try? ArchiveLayout.parse(bytes, path: "fuzz") {
        // Touch every accepted tensor's bytes, as the reader's copy does.
        var sum: UInt8 = 0
        for t in layout.tensors where t.count > 0 {
            sum &+= bytes[t.start] &+ bytes[t.start + t.count * 4 - 1]
        }
        _ = sum
    }
    return 0
}
