#!/usr/bin/env bash
# The measurements of docs/distributed.md (run on a quiet machine: pause background runs).
#   tools/mpi/measure.sh OUTDIR
# 1. images/s of one process x 2 threads against 2 ranks x 1 thread (ce and lsskd, resnet20,
#    tin100 32x32, global batch 64), 3 interleaved rounds;
# 2. images/s of one process x 2 threads at batch 64, 32, 16, 8 (the per-rank batch of
#    K = 1, 2, 4, 8 ranks sharing a global batch of 64) for resnet20 and wrn_16_2 LSSKD;
# 3. the all-reduce time of every zoo architecture's LSSKD gradient (backbone + branches),
#    2 ranks, shared memory and TCP over a veth pair between two network namespaces.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?OUTDIR}
mkdir -p "$out"
bin=.build/release/lsskd
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
data=(--data cifar100:../shared/data/tin100-A-32 --val-split 0.01 --epochs 1 --eval-every 1)
rate() { python3 -c "import json; print(round(json.loads(open('$1/metrics.jsonl').readline())['imagesPerSecond'], 1))"; }
grep -m1 "model name" /proc/cpuinfo | sed 's/.*: /cpu: /' | tee "$out/cpu.txt"
: > "$out/ranks.txt"
for round in 1 2 3; do
  for method in ce lsskd; do
    frac=$([ "$method" = ce ] && echo 0.1 || echo 0.04)
    rm -rf "$out/r"; "$bin" train "${data[@]}" --fraction "$frac" --method "$method" --threads 2 --out "$out/r" > "$out/r.log"
    a=$(rate "$out/r")
    rm -rf "$out/r"; mpirun --allow-run-as-root --oversubscribe -np 2 --bind-to none "$bin" train "${data[@]}" --fraction "$frac" --method "$method" --threads 1 --out "$out/r" > "$out/r.log"
    b=$(rate "$out/r")
    rm -rf "$out/r"; mpirun --allow-run-as-root --oversubscribe -np 2 --bind-to none "$bin" train "${data[@]}" --fraction "$frac" --method "$method" --threads 1 --sync-bn --out "$out/r" > "$out/r.log"
    c=$(rate "$out/r")
    echo "round $round $method 1x2threads $a 2ranksx1thread $b 2ranks-syncbn $c" | tee -a "$out/ranks.txt"
  done
done
: > "$out/batch.txt"
for model in resnet20 wrn_16_2; do
  for b in 64 32 16 8; do
    rm -rf "$out/r"; "$bin" train "${data[@]}" --fraction 0.02 --method lsskd --model "$model" --batch "$b" --threads 2 --out "$out/r" > "$out/r.log"
    echo "$model lsskd batch $b threads 2 images/s $(rate "$out/r")" | tee -a "$out/batch.txt"
  done
done
mpicc -O2 tools/mpi/allreduce_bench.c -o "$out/allreduce_bench"
sizes=(resnet20=1041316 resnet32=1716772 resnet56=3067684 resnet110=6107236 resnet8x4=4790836 resnet32x4=26340916
       wrn_16_2=2631588 wrn_40_1=2054212 wrn_40_2=8024484 ShuffleV1=4067998 ShuffleV2=5875516 MobileNetV2=5484332
       vgg8_bn=20799012 vgg13_bn=46511844 preact_resnet18=51379172)
echo "shared memory, 2 ranks" | tee "$out/allreduce.txt"
mpirun --allow-run-as-root --oversubscribe -np 2 "$out/allreduce_bench" "${sizes[@]}" | tee -a "$out/allreduce.txt"
if ip netns add lsskd-host-a 2>/dev/null && ip netns add lsskd-host-b; then
  trap 'ip netns del lsskd-host-a; ip netns del lsskd-host-b' EXIT
  ip link add lsskd-va type veth peer name lsskd-vb
  ip link set lsskd-va netns lsskd-host-a; ip link set lsskd-vb netns lsskd-host-b
  ip -n lsskd-host-a addr add 10.211.0.1/24 dev lsskd-va; ip -n lsskd-host-b addr add 10.211.0.2/24 dev lsskd-vb
  for h in a b; do ip -n lsskd-host-$h link set lo up; done
  ip -n lsskd-host-a link set lsskd-va up; ip -n lsskd-host-b link set lsskd-vb up
  printf '10.211.0.1 slots=1\n10.211.0.2 slots=1\n' > "$out/hosts"
  echo "TCP over veth between two network namespaces, 2 ranks" | tee -a "$out/allreduce.txt"
  ip netns exec lsskd-host-a mpirun --allow-run-as-root -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
    --hostfile "$out/hosts" --mca plm_rsh_agent "$PWD/tools/mpi/netns-agent.sh" --mca btl tcp,self \
    --mca btl_tcp_if_include 10.211.0.0/24 --mca oob_tcp_if_include 10.211.0.0/24 -np 2 "$out/allreduce_bench" "${sizes[@]}" \
    | tee -a "$out/allreduce.txt"
fi
