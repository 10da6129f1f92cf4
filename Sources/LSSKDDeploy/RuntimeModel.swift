import LSSKDKernels

/// The C inference runtime (include/lsk_model.h) from Swift: `lsskd eval --engine c`, the
/// equality tests and the main job run exported models through exactly the code an edge
/// device links.
public final class RuntimeModel {
    let handle: OpaquePointer

    /// Loads an exported model file; the runtime's message on failure.
    public init(path: String) throws {
        var m: OpaquePointer?
        var err = [CChar](repeating: 0, count: 512)
        let s = lsk_model_load_file(&m, path, &err, err.count)
        guard s == LSK_OK, let m else { throw DeployError(String(cString: err)) }
        handle = m
    }

    /// Loads a model from bytes in memory.
    public init(bytes: [UInt8]) throws {
        var m: OpaquePointer?
        var err = [CChar](repeating: 0, count: 512)
        let s = bytes.withUnsafeBytes { lsk_model_load_memory(&m, $0.baseAddress, $0.count, &err, err.count) }
        guard s == LSK_OK, let m else { throw DeployError(String(cString: err)) }
        handle = m
    }

    deinit { lsk_model_free(handle) }

    public var classes: Int { lsk_model_classes(handle) }
    public var inputShape: (channels: Int, height: Int, width: Int) {
        var c = 0, h = 0, w = 0
        lsk_model_input_shape(handle, &c, &h, &w)
        return (c, h, w)
    }
    public var weightBytes: Int { lsk_model_weight_bytes(handle) }
    public var nodeCount: Int { lsk_model_node_count(handle) }
    public func className(_ i: Int) -> String? { lsk_model_class_name(handle, i).map { String(cString: $0) } }
}

/// One context (arena) of a ``RuntimeModel``, for batches of up to `maxBatch` images.
public final class RuntimeContext {
    public let model: RuntimeModel
    public let maxBatch: Int
    let handle: OpaquePointer

    public init(_ model: RuntimeModel, maxBatch: Int) throws {
        var c: OpaquePointer?
        let s = lsk_model_context_create(&c, model.handle, maxBatch)
        guard s == LSK_OK, let c else { throw DeployError("runtime context: \(String(cString: lsk_status_string(s)))") }
        self.model = model
        self.maxBatch = maxBatch
        handle = c
    }

    deinit { lsk_model_context_free(handle) }

    public var arenaBytes: Int { lsk_model_context_arena_bytes(handle) }

    /// Logits `[batch, classes]` of `images` (`[batch, C, H, W]`, values in [0, 1]) into `logits`.
    public func run(_ images: UnsafePointer<Float>, batch: Int, into logits: UnsafeMutablePointer<Float>) throws {
        let s = lsk_model_run(handle, logits, images, batch)
        guard s == LSK_OK else { throw DeployError("runtime: \(String(cString: lsk_status_string(s)))") }
    }

    public func run(_ images: [Float], batch: Int) throws -> [Float] {
        var out = [Float](repeating: 0, count: batch * model.classes)
        try images.withUnsafeBufferPointer { x in
            try out.withUnsafeMutableBufferPointer { try run(x.baseAddress!, batch: batch, into: $0.baseAddress!) }
        }
        return out
    }
}
