#!/usr/bin/env bash
# kill -9 / --resume loop (issue 11): trains a small LSSKD run (most state: branches, momentum,
# fp16 memories), kills it with SIGKILL at random moments and resumes it, for a bounded time,
# then lets it finish. Passes when the interrupted run ends with the same weights as an
# uninterrupted one (same eval loss, printed to full precision), metrics.jsonl lists every
# epoch exactly once, and no temporary file is left behind.
# Usage: tools/kill-resume-loop.sh [SECONDS]   (default 60; needs .build/release/lsskd and
# Debian's dataset-fashion-mnist)
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-60}
bin=.build/release/lsskd
[ -x "$bin" ] || swift build -c release --product lsskd
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(train --method lsskd --model resnet20 --data fashion-mnist:/usr/share/datasets/fashion-mnist
      --train-limit 256 --batch 32 --epochs 5 --eval-every 5 --threads 1 --seed 3)
t0=$(date +%s%N)
"$bin" "${args[@]}" --out "$work/reference" > "$work/reference.log"
# Kill moments are drawn uniformly from (0, a third of the uninterrupted run's time], so on
# any machine most land inside an epoch, some inside a checkpoint write or a start-up.
window_ms=$(( ($(date +%s%N) - t0) / 3000000 ))
start=$(date +%s) kills=0 resumes=0
RANDOM=$$
while (( $(date +%s) - start < budget )); do
  extra=()
  [ -f "$work/run/checkpoint.lsk" ] && extra=(--resume) && resumes=$((resumes + 1))
  "$bin" "${args[@]}" --out "$work/run" "${extra[@]}" >> "$work/run.log" 2>&1 &
  pid=$!
  delay_ms=$(( (RANDOM * 32768 + RANDOM) % (window_ms + 1) ))
  sleep "$(( delay_ms / 1000 )).$(printf %03d $(( delay_ms % 1000 )))"
  killed=0
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"; kills=$((kills + 1)); killed=1
  fi
  status=0
  wait "$pid" 2>/dev/null || status=$?
  if (( status != 0 && killed == 0 )); then
    echo "FAIL: a start of the run failed by itself (exit $status):"; tail -20 "$work/run.log"; exit 1
  fi
  if grep -q "nothing left to train" "$work/run.log"; then break; fi
done
# Finish the run (resuming if a checkpoint exists).
extra=()
[ -f "$work/run/checkpoint.lsk" ] && extra=(--resume)
"$bin" "${args[@]}" --out "$work/run" "${extra[@]}" >> "$work/run.log" 2>&1 \
  || { echo "FAIL: the final (resumed) run failed:"; tail -20 "$work/run.log"; exit 1; }
strip='import json,sys; d=json.load(sys.stdin); d.pop("file"); print(json.dumps(d, sort_keys=True))'
a=$("$bin" eval "$work/reference/checkpoint.lsk" --json --threads 1 | python3 -c "$strip")
b=$("$bin" eval "$work/run/checkpoint.lsk" --json --threads 1 | python3 -c "$strip")
echo "kill-resume loop: $kills kills, $resumes resumes in ${budget} s (kill window ${window_ms} ms)"
if (( resumes == 0 )); then echo "FAIL: no kill came after a checkpoint; nothing was resumed"; exit 1; fi
if [ "$a" != "$b" ]; then
  echo "FAIL: the interrupted run differs from the uninterrupted one"; echo "$a"; echo "$b"; exit 1
fi
epochs=$(python3 -c "import json,sys; print(' '.join(str(json.loads(l)['epoch']) for l in open(sys.argv[1]) if l.strip()))" "$work/run/metrics.jsonl")
if [ "$epochs" != "0 1 2 3 4" ]; then echo "FAIL: metrics.jsonl lists epochs '$epochs'"; exit 1; fi
if ls -a "$work/run" | grep -q "\.tmp-"; then echo "FAIL: temporary files left: $(ls -a "$work/run")"; exit 1; fi
echo "kill-resume loop: passed (same weights as the uninterrupted run, metrics epochs $epochs, no temporary files)"
