#!/usr/bin/env python3
"""Training throughput of our LSSKD (or plain CE) training step, written in PyTorch CPU (a peer,
never a dependency).

    /tmp/tv/bin/python tools/peer/lsskd_peer.py --model resnet20 --method lsskd --threads 2 --batch 64 \\
        --images 1024 --epochs 1 [--channels-last auto|on|off] [--warmup W] [--start-epoch 0] [--json]

Models (tools/peer/cifar_models.py): resnet20, wrn_16_2, ShuffleV2 (1.0x), MobileNetV2 (T=6, x0.5,
stride-1 stem), 3x32x32 inputs, 100 classes; the backbone's parameter count is asserted equal to
ours, the branches' to LSSKD.md's table (and exactly where hand-computed: resnet20, wrn_16_2).

A real training loop over N random-but-fixed uint8 images with fixed labels: each epoch draws a
permutation, drops the last partial batch (as our trainer does), normalises the uint8 batch with
CIFAR-100's per-channel mean/std, and takes one SGD step (momentum 0.9, lr 0.05, weight decay
5e-4, no Nesterov) per batch. Prints images/s over the whole run minus the first --warmup steps
(images = dataset images, B per step; an LSSKD forward has 4B rows), the torch version, thread
count, layout and peak RSS.

Mirrored from shared/method/LSSKD.md and Sources/LSSKDDistill/LSSKD.swift (method lsskd):
- the batch expanded to 4B rows, image-major, row 4i+j = rot90(x_i, j) counter-clockwise
  (torch.rot90 over H, W: the same direction as our ImageOps.rotatePlane); the backbone runs on
  all 4B rows (BatchNorm statistics include the rotated copies);
- one auxiliary branch per stage: fresh copies of the later stages; after the last stage a fresh
  copy of it at stride 1; a fresh head (WRN BN-ReLU, ShuffleV2/MobileNetV2 1x1 conv-BN-ReLU),
  GAP, linear to 4N joint classes; branch inputs not detached;
- L_CE on the rotation-0 rows against (1-a_e) onehot(y) + a_e P[i]; L_SAD = sum over branches of
  the soft-target CE over all 4B rows against (1-a_e) onehot(4y+j) + a_e Q_s[i,j];
  L_KL = sum_{s<S} tau^2 KL(stopgrad(q_S(tau)) || q_s(tau)), batch-mean over 4B rows, tau = 3,
  deepest branch teaches; L_FEAT = sum_s mse_loss(h_s, stopgrad(h)) (per-element mean);
  L = L_CE + L_SAD + beta L_KL + gamma L_FEAT, beta = gamma = 1;
- a_e = a_T (e+1)/E with a_T = 0.8, but 0 at epoch 0 (our SoftTargets.alpha: one-hot targets and
  no memory read at epoch 0, nor for a sample not written yet);
- memories in half precision, P [N, 100] and Q_s [N, 4*400] per branch, plus a written flag per
  sample, written after the forward (before backward) with train-mode softmax at T = 1.
  With the default --epochs 1 --start-epoch 0 the memories are written but never read (as in our
  first epoch); use --epochs 2 or --start-epoch 1 (--schedule-epochs E) to time the read path too.
Method ce: the plain batch of B images (no rotations, no branches), hard-label cross-entropy.

Not mirrored: data augmentation (pad+crop, flip: ours does it in its loader, off the step's
critical path only partly), our fused kernels (soft-target CE over 4B rows with zero rotated rows
and scale M is computed here on the B rotation-0 rows, which is the same value; KL as
CE minus entropy is computed here with F.kl_div), the RNG (weights and data differ in value),
per-term loss logging and probes, checkpoints, evaluation. Layout: PyTorch's contiguous (NCHW)
or channels_last; `auto` times a few steps of each on a fresh copy and keeps the faster one.
Advice (as in torch_train_throughput.py): the script re-executes itself with GLIBC_TUNABLES that
stop glibc malloc from returning memory to the OS between steps (mmap_max=0, a huge
trim_threshold), which otherwise costs PyTorch CPU training noticeably at these sizes.
"""
import argparse
import json
import os
import resource
import sys
import time
import warnings

TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"
if os.environ.get("GLIBC_TUNABLES") != TUNABLES:
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, GLIBC_TUNABLES=TUNABLES))

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # numpy is not needed
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cifar_models  # noqa: E402

ROTATIONS = 4
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)


def rotate_expand(x):
    """[B, C, S, S] -> [4B, C, S, S], row 4i+j = rot90(x_i, j) (image-major)."""
    return torch.stack([torch.rot90(x, j, dims=(2, 3)) for j in range(ROTATIONS)], 1).flatten(0, 1)


def alpha(alpha_t, epoch, epochs):
    return 0.0 if epoch == 0 else alpha_t * (epoch + 1) / epochs


class Memories:
    """P [N, classes] and Q_s [N, 4 * 4 * classes] in half precision, with a written flag per sample."""

    def __init__(self, samples, classes, branches):
        self.p = torch.zeros(samples, classes, dtype=torch.float16)
        self.q = [torch.zeros(samples, ROTATIONS * ROTATIONS * classes, dtype=torch.float16) for _ in range(branches)]
        self.written = torch.zeros(samples, dtype=torch.bool)

    def nbytes(self):
        return sum(t.numel() * t.element_size() for t in [self.p, *self.q])


def soft_target(onehot, remembered, written, a):
    """(1-a) onehot + a memory for written rows, the one-hot row otherwise (our SoftTargets.fill)."""
    if a == 0 or remembered is None:
        return onehot
    mixed = (1 - a) * onehot + a * remembered.float()
    return torch.where(written.unsqueeze(1), mixed, onehot)


def lsskd_step(model, branches, mem, x, y, idx, a, cfg):
    b, n = y.shape[0], cfg.classes
    x4 = rotate_expand(x)
    if cfg.channels_last:
        x4 = x4.contiguous(memory_format=torch.channels_last)
    logits, taps, pooled = model.forward_with_taps(x4)
    written = mem.written[idx] if mem is not None else None
    use_mem = mem is not None and a > 0

    # L_CE on the rotation-0 rows.
    logits0 = logits[0::ROTATIONS]
    t_final = soft_target(F.one_hot(y, n).float(), mem.p[idx] if use_mem else None, written, a)
    ce = F.cross_entropy(logits0, t_final)

    # Branches, L_SAD over all 4B rows with joint labels 4y+j.
    joint = (y.repeat_interleave(ROTATIONS) * ROTATIONS + torch.arange(ROTATIONS).repeat(b))
    onehot_joint = F.one_hot(joint, ROTATIONS * n).float()
    written4 = written.repeat_interleave(ROTATIONS) if written is not None else None
    feats, zs, sad = [], [], 0
    for s, branch in enumerate(branches):
        h_s, z_s = branch(taps[s])
        feats.append(h_s)
        zs.append(z_s)
        rem = mem.q[s][idx].view(ROTATIONS * b, ROTATIONS * n) if use_mem else None
        sad = sad + F.cross_entropy(z_s, soft_target(onehot_joint, rem, written4, a))

    # L_KL: the deepest branch teaches every shallower one (stop-grad), tau^2, batch-mean over 4B rows.
    kl = logits.new_zeros(())
    tau = cfg.tau
    if cfg.beta != 0 and len(zs) >= 2:
        teacher = F.softmax(zs[-1].detach() / tau, dim=1)
        for z_s in zs[:-1]:
            kl = kl + tau * tau * F.kl_div(F.log_softmax(z_s / tau, dim=1), teacher, reduction="batchmean")

    # L_FEAT: per-element MSE against the detached backbone pooled feature.
    feat = logits.new_zeros(())
    if cfg.gamma != 0:
        target = pooled.detach()
        for h_s in feats:
            feat = feat + F.mse_loss(h_s, target)

    # Memories: train-mode predictions at T = 1, after the targets were read.
    if mem is not None:
        with torch.no_grad():
            mem.p[idx] = F.softmax(logits0, dim=1).half()
            for s, z_s in enumerate(zs):
                mem.q[s][idx] = F.softmax(z_s, dim=1).view(b, ROTATIONS * ROTATIONS * n).half()
            mem.written[idx] = True

    loss = ce + sad + cfg.beta * kl + cfg.gamma * feat
    terms = {"ce": ce, "sad": sad, "kl": kl, "feat": feat}
    return loss, {k: float(v.detach()) for k, v in terms.items()}


def ce_step(model, x, y, cfg):
    if cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    loss = F.cross_entropy(model(x), y)
    return loss, {"ce": float(loss.detach())}


class Run:
    """Model, branches, optimiser and memories of one layout."""

    def __init__(self, cfg, samples):
        torch.manual_seed(cfg.seed)
        self.model = cifar_models.MODELS[cfg.model](3, cfg.classes)
        self.branches = (cifar_models.build_branches(self.model, cfg.classes, ROTATIONS)
                         if cfg.method == "lsskd" else None)
        self.counts = cifar_models.check_counts(cfg.model, self.model, self.branches)
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
            if self.branches is not None:
                self.branches = self.branches.to(memory_format=torch.channels_last)
        params = list(self.model.parameters()) + (list(self.branches.parameters()) if self.branches is not None else [])
        self.opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=5e-4)
        self.mem = (Memories(samples, cfg.classes, len(self.branches))
                    if cfg.method == "lsskd" and cfg.alpha_t > 0 else None)
        self.model.train()
        if self.branches is not None:
            self.branches.train()

    def step(self, cfg, x, y, idx, a):
        self.opt.zero_grad(set_to_none=True)
        if cfg.method == "lsskd":
            loss, terms = lsskd_step(self.model, self.branches, self.mem, x, y, idx, a, cfg)
        else:
            loss, terms = ce_step(self.model, x, y, cfg)
        loss.backward()
        self.opt.step()
        return loss.item(), terms


def make_data(cfg):
    g = torch.Generator().manual_seed(1234)
    images = torch.randint(0, 256, (cfg.images, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, cfg.classes, (cfg.images,), generator=g)
    return images, labels


def batch_of(images, labels, idx, mean, std):
    x = images[idx].float().div_(255).sub_(mean).div_(std)
    return x, labels[idx]


def probe_layout(cfg, images, labels, mean, std, steps):
    """img/s of `steps` steps (after one untimed) on a fresh copy, for --channels-last auto."""
    run = Run(cfg, cfg.images)
    idx = torch.arange(cfg.batch)
    x, y = batch_of(images, labels, idx, mean, std)
    run.step(cfg, x, y, idx, 0.0)
    t0 = time.perf_counter()
    for _ in range(steps):
        run.step(cfg, x, y, idx, 0.0)
    return steps * cfg.batch / (time.perf_counter() - t0)


def step_flops_per_image(cfg, images, labels, mean, std):
    """Direct-convolution-equivalent FLOPs of one training step per image (forward and backward
    of every convolution and matrix product: torch.utils.flop_counter, 2 per multiply-add),
    counted on one batch of a fresh copy (untimed): the work both engines do, whatever their
    algorithm (Winograd does fewer multiplications for the same result)."""
    from torch.utils.flop_counter import FlopCounterMode
    run = Run(cfg, cfg.images)
    idx = torch.arange(cfg.batch)
    x, y = batch_of(images, labels, idx, mean, std)
    with FlopCounterMode(display=False) as counter:
        run.step(cfg, x, y, idx, 0.0)
    return counter.get_total_flops() / cfg.batch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="resnet20", choices=sorted(cifar_models.MODELS))
    ap.add_argument("--method", default="lsskd", choices=["lsskd", "ce"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--images", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=1, help="epochs to run")
    ap.add_argument("--start-epoch", type=int, default=0, help="epoch index of the first epoch run (a_e schedule)")
    ap.add_argument("--schedule-epochs", type=int, default=None, help="E of a_e = a_T (e+1)/E (default: start + epochs)")
    ap.add_argument("--channels-last", default="auto", choices=["auto", "on", "off"])
    ap.add_argument("--probe-steps", type=int, default=3, help="timed steps per layout for --channels-last auto")
    ap.add_argument("--warmup", type=int, default=None,
                    help="untimed steps at the start of the first epoch (default min(3, max(1, steps / 4)))")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--alpha-t", type=float, default=0.8)
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--gamma", type=float, default=1.0)
    ap.add_argument("--tau", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="also print one JSON line with the results")
    ap.add_argument("--count-flops", action="store_true",
                    help="also report the direct-convolution-equivalent FLOPs of one step per image")
    cfg = ap.parse_args()
    cfg.classes = 100
    steps_per_epoch = cfg.images // cfg.batch
    if cfg.warmup is None:
        cfg.warmup = min(3, max(1, steps_per_epoch * cfg.epochs // 4))
    if steps_per_epoch * cfg.epochs <= cfg.warmup:
        ap.error(f"{cfg.images} images / batch {cfg.batch} x {cfg.epochs} epochs leave no step after {cfg.warmup} warm-up steps")
    schedule = cfg.schedule_epochs or (cfg.start_epoch + cfg.epochs)
    torch.set_num_threads(cfg.threads)

    images, labels = make_data(cfg)
    mean = torch.tensor(CIFAR100_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR100_STD).view(1, 3, 1, 1)

    probes = {}
    if cfg.channels_last == "auto":
        for layout in ["contiguous", "channels_last"]:
            cfg.channels_last = layout == "channels_last"
            probes[layout] = probe_layout(cfg, images, labels, mean, std, cfg.probe_steps)
        cfg.channels_last = probes["channels_last"] > probes["contiguous"]
    else:
        cfg.channels_last = cfg.channels_last == "on"
    layout = "channels_last" if cfg.channels_last else "contiguous"

    run = Run(cfg, cfg.images)
    backbone, branch_params = run.counts
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cfg.model}: backbone {backbone} params "
          f"(ours {cifar_models.EXACT_COUNTS[cfg.model]})"
          + (f", branches {branch_params} (table {cifar_models.TABLE_BRANCHES_M[cfg.model]}M"
             + (f", ours {cifar_models.EXACT_BRANCH_COUNTS[cfg.model]}" if cfg.model in cifar_models.EXACT_BRANCH_COUNTS else "")
             + ")" if branch_params is not None else "")
          + (f", memories {run.mem.nbytes() / 1e6:.1f} MB fp16" if run.mem is not None else ""))
    if probes:
        print("layout probe: " + ", ".join(f"{k} {v:.1f} img/s" for k, v in probes.items()) + f"; using {layout}")

    gen = torch.Generator().manual_seed(cfg.seed + 1)
    timed_steps, timed_s, step_no, first_terms, last_loss = 0, 0.0, 0, None, None
    for e in range(cfg.start_epoch, cfg.start_epoch + cfg.epochs):
        a = alpha(cfg.alpha_t, e, schedule) if cfg.method == "lsskd" else 0.0
        perm = torch.randperm(cfg.images, generator=gen)
        t_epoch = None
        epoch_steps = 0
        for k in range(steps_per_epoch):
            if step_no == cfg.warmup or (t_epoch is None and step_no > cfg.warmup):
                t_epoch = time.perf_counter()
            idx = perm[k * cfg.batch:(k + 1) * cfg.batch]
            x, y = batch_of(images, labels, idx, mean, std)
            last_loss, terms = run.step(cfg, x, y, idx, a)
            if first_terms is None:
                first_terms = terms
            step_no += 1
            if t_epoch is not None:
                epoch_steps += 1
        if t_epoch is not None:
            dt = time.perf_counter() - t_epoch
            timed_s += dt
            timed_steps += epoch_steps
            print(f"epoch {e}: a_e {a:.3f}, {epoch_steps} timed steps, {epoch_steps * cfg.batch / dt:.1f} img/s, "
                  f"loss {last_loss:.4f}")
    assert last_loss == last_loss and abs(last_loss) != float("inf"), f"loss {last_loss}"

    ips = timed_steps * cfg.batch / timed_s
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    rows = cfg.batch * (ROTATIONS if cfg.method == "lsskd" else 1)
    print("first-step terms: " + ", ".join(f"{k} {v:.4f}" for k, v in first_terms.items()))
    print(f"torch {torch.__version__} {cfg.method} {cfg.model} ({backbone} params"
          + (f" + {branch_params} branch params" if branch_params is not None else "")
          + f") 3x32x32, batch {cfg.batch} ({rows} rows per forward), {cfg.images} images x {cfg.epochs} epochs, "
          f"{cfg.threads} threads, {layout}: {ips:.1f} img/s over {timed_steps} steps "
          f"({cfg.warmup} warm-up steps excluded); peak RSS {rss_mb:.0f} MB")
    flops = step_flops_per_image(cfg, images, labels, mean, std) if cfg.count_flops else None
    if flops is not None:
        print(f"step FLOPs per image (forward + backward, direct-convolution equivalent): {flops / 1e9:.3f} G")
    if cfg.json:
        print(json.dumps({"step_flops_per_image": flops, "peer": "pytorch", "torch": torch.__version__, "model": cfg.model, "method": cfg.method,
                          "threads": cfg.threads, "batch": cfg.batch, "images": cfg.images, "epochs": cfg.epochs,
                          "start_epoch": cfg.start_epoch, "layout": layout, "images_per_s": round(ips, 2),
                          "timed_steps": timed_steps, "timed_s": round(timed_s, 3), "warmup_steps": cfg.warmup,
                          "peak_rss_mb": round(rss_mb, 1), "backbone_params": backbone,
                          "branch_params": branch_params, "layout_probe": probes or None}))


if __name__ == "__main__":
    main()
