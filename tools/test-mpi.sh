#!/usr/bin/env bash
# Data-parallel training over MPI (issue 13; docs/distributed.md), three checks:
#   (a) K = 2 ranks x 32 rows with --sync-bn trains what one process with batch 64 trains,
#       for ce and lsskd (weights, branches and memories within tolerances), and per-rank
#       batch norm does not (a negative control: the comparison can fail);
#   (b) the same run with its two ranks in two network namespaces joined by a veth pair
#       (TCP between them, Open MPI's launcher entering a namespace instead of ssh): the
#       multi-host path; the bytes that crossed the link are checked;
#   (c) rank 1 killed with SIGKILL in the middle of a run: mpirun ends within seconds naming
#       the rank, the last checkpoint loads, and --resume with another K (1) finishes the run.
# Needs Open MPI (tools/setup.sh installs it), root for (b) (skipped, loudly, where network
# namespaces cannot be made), and builds .build/release/lsskd and the MPI plugin if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mpirun >/dev/null || { echo "test-mpi: mpirun missing (tools/setup.sh installs openmpi-bin)"; exit 1; }
bin=.build/release/lsskd
[ -x "$bin" ] || swift build -c release --product lsskd
make -s -C kernels mpi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(mpirun --allow-run-as-root --oversubscribe)
work=$(mktemp -d /tmp/lsskd-mpi-test.XXXXXX)
cleanup() {
  ip netns del lsskd-host-a 2>/dev/null || true
  ip netns del lsskd-host-b 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
compare=(python3 tools/mpi/compare_weights.py)
# 300 training images: 4 steps of 64 per epoch, 2 epochs (the second reads the memories the
# first wrote, across ranks). A small learning rate keeps 8 steps out of the chaotic regime in
# which rounding alone (one thread more) moves batch-norm biases by percents.
small=(--data fashion-mnist:/usr/share/datasets/fashion-mnist --fraction 0.005 --val-split 0.01 --epochs 2
       --batch 64 --schedule constant --lr 0.005 --threads 1)
# Tolerances: relative L2 distance of the whole trained state and of each memory. Measured
# on AMD Zen 5 (docs/distributed.md): K=2 --sync-bn vs K=1 differs by 9e-4 (state) and 1.5e-2
# (memories); one process with 2 threads instead of 1 by 4e-4 and 8e-3; per-rank batch norm
# by 6e-3 (state); a rank 0 that misses the other rank's memory rows by 0.59 (memories).
state_tol=3e-3
memory_tol=5e-2

t0=$(date +%s)
for method in ce lsskd; do
  "$bin" train "${small[@]}" --method "$method" --out "$work/$method-k1" > "$work/$method-k1.log"
  "${mpirun[@]}" -np 2 "$bin" train "${small[@]}" --method "$method" --sync-bn --out "$work/$method-k2" > "$work/$method-k2.log"
  echo "test-mpi (a) $method: K=2 x 32 with --sync-bn against K=1 x 64"
  "${compare[@]}" "$work/$method-k2/checkpoint.lsk" "$work/$method-k1/checkpoint.lsk" --tolerance $state_tol --memory-tolerance $memory_tol | sed 's/^/  /'
done
"${mpirun[@]}" -np 2 "$bin" train "${small[@]}" --method ce --out "$work/ce-k2-perrank" > "$work/ce-k2-perrank.log"
echo "test-mpi (a) negative control: per-rank batch norm must differ"
"${compare[@]}" "$work/ce-k2-perrank/checkpoint.lsk" "$work/ce-k1/checkpoint.lsk" --tolerance $state_tol --expect-differ | sed 's/^/  /'
echo "test-mpi (a) took $(( $(date +%s) - t0 )) s"

# (b) Two "hosts": network namespaces lsskd-host-a (10.211.0.1) and lsskd-host-b (10.211.0.2).
t0=$(date +%s)
if ip netns add lsskd-host-a 2>/dev/null && ip netns add lsskd-host-b; then
  ip link add lsskd-va type veth peer name lsskd-vb
  ip link set lsskd-va netns lsskd-host-a
  ip link set lsskd-vb netns lsskd-host-b
  ip -n lsskd-host-a addr add 10.211.0.1/24 dev lsskd-va
  ip -n lsskd-host-b addr add 10.211.0.2/24 dev lsskd-vb
  for h in a b; do ip -n lsskd-host-$h link set lo up; done
  ip -n lsskd-host-a link set lsskd-va up
  ip -n lsskd-host-b link set lsskd-vb up
  printf '10.211.0.1 slots=1\n10.211.0.2 slots=1\n' > "$work/hosts"
  # mpirun runs on host a (rank 0 there); it starts host b's daemon through the agent.
  timeout 300 ip netns exec lsskd-host-a mpirun --allow-run-as-root -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
    --hostfile "$work/hosts" --mca plm_rsh_agent "$PWD/tools/mpi/netns-agent.sh" \
    --mca btl tcp,self --mca btl_tcp_if_include 10.211.0.0/24 --mca oob_tcp_if_include 10.211.0.0/24 \
    -np 2 "$bin" train "${small[@]}" --method ce --sync-bn --out "$work/ce-hosts" > "$work/ce-hosts.log"
  sent=$(ip -n lsskd-host-b -s -j link show lsskd-vb | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['stats64']['tx']['bytes'])")
  echo "test-mpi (b) two hosts over TCP: host b sent $sent bytes over the veth link"
  # 8 steps all-reduce 272,186 float gradients (1.09 MB) each; a 2-rank all-reduce sends about
  # the whole buffer each way: at least half of 8 x 1.09 MB must have left host b.
  [ "$sent" -gt 4000000 ] || { echo "test-mpi (b): too little traffic between the hosts ($sent bytes)"; exit 1; }
  "${compare[@]}" "$work/ce-hosts/checkpoint.lsk" "$work/ce-k2/checkpoint.lsk" --tolerance 1e-6 | sed 's/^/  /'
else
  echo "test-mpi (b) SKIPPED: cannot create network namespaces here (needs root with CAP_NET_ADMIN)"
fi
echo "test-mpi (b) took $(( $(date +%s) - t0 )) s"

# (c) A rank dies: SIGKILL to rank 1 after the first checkpoint.
t0=$(date +%s)
long=(--data fashion-mnist:/usr/share/datasets/fashion-mnist --fraction 0.05 --val-split 0.01 --epochs 4 --batch 64 --threads 1 --eval-every 4)
"${mpirun[@]}" -np 2 "$bin" train "${long[@]}" --out "$work/fault" > "$work/fault.log" 2>&1 &
launcher=$!
for _ in $(seq 1 600); do [ -f "$work/fault/checkpoint.lsk" ] && break; sleep 0.1; done
[ -f "$work/fault/checkpoint.lsk" ] || { cat "$work/fault.log"; echo "test-mpi (c): no checkpoint after 60 s"; exit 1; }
victim=""
for p in $(pgrep -f "lsskd train.*$work/fault"); do
  if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1; then victim=$p; fi
done
[ -n "$victim" ] || { echo "test-mpi (c): rank 1 not found"; exit 1; }
killed=$(date +%s.%N)
kill -9 "$victim"
rc=0
timeout 30 tail --pid="$launcher" -f /dev/null || { echo "test-mpi (c): mpirun still running 30 s after rank 1 died (a hang)"; exit 1; }
wait "$launcher" || rc=$?
took=$(python3 -c "import time; print(f'{time.time() - $killed:.1f}')")
[ "$rc" -ne 0 ] || { echo "test-mpi (c): mpirun exited 0 after a rank was killed"; exit 1; }
grep -q "rank 1" "$work/fault.log" || { cat "$work/fault.log"; echo "test-mpi (c): the message does not name rank 1"; exit 1; }
echo "test-mpi (c) rank 1 killed: mpirun exited with status $rc after $took s: $(grep -m1 'rank 1' "$work/fault.log" | sed 's/^ *//')"
done_epochs=$(python3 -c "import sys; print(sum(1 for l in open('$work/fault/metrics.jsonl') if l.strip()))")
"$bin" eval "$work/fault/checkpoint.lsk" --data fashion-mnist:/usr/share/datasets/fashion-mnist > /dev/null
"$bin" train "${long[@]}" --out "$work/fault" --resume > "$work/fault-resume.log"
grep -q "resumed from" "$work/fault-resume.log" || { cat "$work/fault-resume.log"; exit 1; }
finished=$(python3 -c "print(sum(1 for l in open('$work/fault/metrics.jsonl') if l.strip()))")
[ "$finished" -eq 4 ] || { echo "test-mpi (c): $finished epochs after the resume, expected 4"; exit 1; }
echo "test-mpi (c) the checkpoint after $done_epochs epoch(s) loads; --resume on 1 process (another K) finished the run"
echo "test-mpi (c) took $(( $(date +%s) - t0 )) s"
echo "test-mpi: all passed"
