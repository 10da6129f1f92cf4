import LSSKDTensor

// Distillation losses backed by fused C kernels (include/lsk_loss.h).

/// Knowledge-distillation loss (Hinton et al.): `T^2 * KL(softmax(teacher / T) || softmax(student / T))`
/// averaged over the batch, in one fused pass per row (`lsk_softmax_kl`).
///
/// PyTorch: `F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean") * T * T`.
/// The gradient flows to `student` only (`T * (softmax(s / T) - softmax(t / T)) / N` times the
/// incoming gradient); `teacher` is treated as a constant, as distillation requires.
///
/// - Parameters:
///   - student: `[N, classes]` logits
///   - teacher: `[N, classes]` logits (constant)
///   - temperature: `T > 0`
/// - Returns: shape `[]`.
public func softmaxKL(student: Variable, teacher: Tensor, temperature: Float = 1) throws -> Variable {
    let op = "softmaxKL"
    guard student.shape.count == 2 else { throw shapeError(op, "student must be [N, classes], got \(student.shape)") }
    guard teacher.shape == student.shape else {
        throw shapeError(op, "teacher \(teacher.shape) must match student \(student.shape)")
    }
    let (rows, classes) = (student.shape[0], student.shape[1])
    let sv = student.value
    var none: Tensor? = nil
    let loss = try Kernels.softmaxKL(student: sv, teacher: teacher, rows: rows, classes: classes,
                                     temperature: temperature, scale: 1, studentGradient: &none, accumulate: false)
    return Variable.record(Tensor(loss), inputs: [student]) { [student = student.node] dy in
        let g = dy.scalar
        let acc = student.prepareGradient()
        var ds = student.takeGradient()
        defer { student.restoreGradient(ds) }
        try Kernels.softmaxKL(student: sv, teacher: teacher, rows: rows, classes: classes, temperature: temperature,
                              scale: g, studentGradient: &ds, accumulate: acc)
    }
}

/// ``softmaxKL(student:teacher:temperature:)`` with the teacher given as a variable: its value
/// is used, no gradient reaches it (the teacher is detached).
public func softmaxKL(student: Variable, teacher: Variable, temperature: Float = 1) throws -> Variable {
    try softmaxKL(student: student, teacher: teacher.value, temperature: temperature)
}
