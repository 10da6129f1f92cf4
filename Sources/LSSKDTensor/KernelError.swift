internal import LSSKDKernels

/// The error every throwing call of this package raises: which operation failed and why.
///
/// `operation` is the C function name (`"lsk_conv2d_fwd"`) for kernel calls, or the
/// Swift API (`"Tensor.reshaped"`, `"conv2d"`) for checks done in Swift before a call.
public struct KernelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Mirrors `lsk_status` (minus `LSK_OK`).
    public enum Status: Int32, Sendable {
        case invalidArgument = 1
        case unsupported = 2
        case outOfMemory = 3
        case unknown = -1
    }

    public var operation: String
    public var status: Status
    /// Which argument was wrong, when the Swift layer knows.
    public var detail: String

    public init(operation: String, status: Status, detail: String = "") {
        self.operation = operation
        self.status = status
        self.detail = detail
    }

    public var description: String {
        let name: String
        switch status {
        case .invalidArgument: name = "invalid argument"
        case .unsupported: name = "unsupported"
        case .outOfMemory: name = "out of memory"
        case .unknown: name = "unknown status"
        }
        return detail.isEmpty ? "\(operation): \(name)" : "\(operation): \(name): \(detail)"
    }
}

extension KernelError {
    /// Throws if `status` is not LSK_OK.
    @inline(__always)
    static func check(_ status: lsk_status, _ operation: @autoclosure () -> String,
                      _ detail: @autoclosure () -> String = "") throws {
        if status.rawValue != LSK_OK.rawValue {
            throw KernelError(operation: operation(),
                              status: Status(rawValue: Int32(status.rawValue)) ?? .unknown,
                              detail: detail())
        }
    }

    static func invalid(_ operation: String, _ detail: String) -> KernelError {
        KernelError(operation: operation, status: .invalidArgument, detail: detail)
    }
}
