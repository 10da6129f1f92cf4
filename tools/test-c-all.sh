#!/usr/bin/env bash
# The standalone C kernel library, checked five ways (no Swift involved). Each part is a clean
# build of kernels/ (liblsk.a + the C test program, same Makefile) in its own folder
# kernels/build-ci-<part>, then the test program: every kernel against its scalar oracle on
# every ISA path the CPU has, plus the invalid-argument family. A part passes when the
# program exits 0 and prints "N passed, 0 failed".
#
#   gcc         x86-64, gcc + OpenMP (libgomp)
#   clang       x86-64, clang (Swift's) + OpenMP (Debian's libomp, /usr/lib/llvm-*/lib)
#   asan-gcc    gcc   -fsanitize=address,undefined -fno-sanitize-recover=all  (make SAN=1)
#   asan-clang  clang -fsanitize=address,undefined -fno-sanitize-recover=all
#   aarch64     aarch64-linux-gnu-gcc + OpenMP, run under qemu-aarch64-static; must also
#               show NEON checks in every kernel family's summary line
#   noomp       x86-64, gcc, OPENMP=0 (every file must build and pass without OpenMP)
#   runtime     the inference runtime on exported models (seeds of tools/fuzz/make_seeds.py,
#               the committed real export in tools/fuzz/seeds/runtime, and a resnet20 trained
#               and exported by lsskd when a build of it exists): tools/runtime_logits.c built
#               for x86-64 (gcc), aarch64 (run under qemu) and x86-64 with ASan+UBSan; all three
#               must print the same logits (max |difference| <= 1e-4)
#   install     make install PREFIX=<tmp>, then tools/example_classify.c built against the
#               installed copy with `pkg-config --cflags --libs lsk` only and run on a PNG
#
# Usage: tools/test-c-all.sh [part ...]        (default: all eight, in that order)
# Env:   JOBS (make -j, default: nproc), CLANG (default: clang on PATH, else Swift's),
#        QEMU (default: qemu-aarch64-static -L /usr/aarch64-linux-gnu)
# Needs: tools/setup.sh --cross (cross gcc, arm64 libc, qemu-user-static).
set -uo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}
CLANG=${CLANG:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
QEMU=${QEMU:-qemu-aarch64-static -L /usr/aarch64-linux-gnu}
parts=("$@")
((${#parts[@]})) || parts=(gcc clang asan-gcc asan-clang aarch64 noomp runtime install)

# Sanitizer reports abort the program (-fno-sanitize-recover=all, ASan's default); print
# UBSan stacks too. Leak checking stays on (scratch buffers are reachable from TLS).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

summary=()
failed=0

# The inference runtime across builds: same logits on x86-64, aarch64 (qemu) and under ASan.
run_runtime() {
    local t0 dir log=kernels/build-ci-runtime/ci.log
    t0=$(date +%s)
    dir=$(mktemp -d)
    mkdir -p kernels/build-ci-runtime
    : >"$log"
    python3 tools/fuzz/make_seeds.py runtime "$dir" >>"$log" 2>&1
    cp tools/fuzz/seeds/runtime/*.lskm "$dir"/
    local lsskd=""
    for b in .build/release/lsskd .build/debug/lsskd; do [[ -x $b ]] && { lsskd=$b; break; }; done
    if [[ -n $lsskd ]]; then
        # resnet20: Winograd, residual fusion, strided convolutions
        "$lsskd" train --model resnet20 --data fashion-mnist:/usr/share/datasets/fashion-mnist --train-limit 64 --batch 32 \
            --epochs 1 --threads 2 --out "$dir/run" >>"$log" 2>&1 && "$lsskd" export "$dir/run/checkpoint.lsk" --output "$dir/resnet20.lskm" >>"$log" 2>&1 \
            || { summary+=("runtime     FAILED (lsskd train/export of a resnet20, see $log)"); return 1; }
    elif [[ -n ${CI:-} ]]; then
        summary+=("runtime     FAILED (no lsskd build for the resnet20 model)"); return 1
    fi
    local -a models=("$dir"/*.lskm)
    local b
    for b in "gcc:CC=gcc" "aarch64:CC=aarch64-linux-gnu-gcc" "asan-gcc:CC=gcc SAN=1"; do  # the folders of those parts: built once
        local name=${b%%:*} vars=${b#*:}
        # shellcheck disable=SC2086
        make -C kernels -j"$JOBS" BUILD="build-ci-$name" $vars "build-ci-$name/runtime_logits" >>"$log" 2>&1 \
            || { summary+=("runtime     build $name FAILED (see $log)"); return 1; }
    done
    kernels/build-ci-gcc/runtime_logits "${models[@]}" >"$dir/x86.txt" 2>>"$log" &&
        $QEMU kernels/build-ci-aarch64/runtime_logits "${models[@]}" >"$dir/arm.txt" 2>>"$log" &&
        kernels/build-ci-asan-gcc/runtime_logits "${models[@]}" >"$dir/asan.txt" 2>>"$log" \
        || { summary+=("runtime     a run FAILED (see $log)"); return 1; }
    local cmp
    if ! cmp=$(python3 - "$dir/x86.txt" "$dir/arm.txt" "$dir/asan.txt" <<'PY'
import sys
def read(p):
    return [l.split() for l in open(p)]
a, b, c = (read(p) for p in sys.argv[1:4])
worst, models = 0.0, sum(1 for l in a if l[0] == "model")
for other in (b, c):
    if len(other) != len(a):
        sys.exit("different line counts")
    for la, lb in zip(a, other):
        if la[0] == "model":
            if la != lb: sys.exit(f"model lines differ: {la} {lb}")
            continue
        worst = max(worst, max(abs(float(x) - float(y)) for x, y in zip(la, lb)))
if worst > 1e-4:
    sys.exit(f"max |logit difference| {worst:.3g} > 1e-4")
print(f"{models} models, x86-64 vs aarch64 vs asan: max |logit difference| {worst:.3g}")
PY
); then
        summary+=("runtime     FAILED ($cmp)"); return 1
    fi
    summary+=("$(printf 'runtime     %4ss  %s' $(( $(date +%s) - t0 )) "$cmp")")
    rm -rf "$dir"
}

# make install, then the example built against the installed copy with pkg-config alone.
run_install() {
    local t0 dir log=kernels/build-ci-install/ci.log
    t0=$(date +%s)
    dir=$(mktemp -d)
    rm -rf kernels/build-ci-install
    mkdir -p kernels/build-ci-install
    make -C kernels -j"$JOBS" BUILD=build-ci-install CC=gcc install PREFIX="$dir/prefix" >"$log" 2>&1 \
        || { summary+=("install     FAILED (make install, see $log)"); return 1; }
    # the program and its PNG/JPEG helper copied out of the repository: no path into it remains
    cp tools/example_classify.c Sources/CImageCodecs/image_codecs.c Sources/CImageCodecs/include/lsk_image_codecs.h "$dir"/
    local flags
    flags=$(PKG_CONFIG_PATH="$dir/prefix/lib/pkgconfig" pkg-config --cflags --libs lsk) \
        || { summary+=("install     FAILED (pkg-config lsk)"); return 1; }
    (cd "$dir" && gcc -std=c99 -O2 example_classify.c image_codecs.c -I. $flags -lpng -ljpeg -lm -o example) >>"$log" 2>&1 \
        || { summary+=("install     FAILED (building the example with: $flags)"); return 1; }
    python3 - "$dir/digit.png" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
rows = b"".join(b"\0" + bytes((x * y) % 256 for x in range(28)) for y in range(28))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
    local out soname
    out=$(LD_LIBRARY_PATH="$dir/prefix/lib" "$dir/example" tools/fuzz/seeds/runtime/simplecnn-w4-fashion-mnist.lskm "$dir/digit.png" 2>&1) \
        || { summary+=("install     FAILED (the example: $out)"); return 1; }
    soname=$(readelf -d "$dir/prefix/lib/liblsk.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
    if ! head -n 1 <<<"$out" | grep -qE '^[0-9]+ '; then summary+=("install     FAILED (first line '$(head -n 1 <<<"$out")')"); return 1; fi
    if ! LD_LIBRARY_PATH="$dir/prefix/lib" ldd "$dir/example" | grep -q "liblsk.so.0 => $dir/prefix/lib"; then
        summary+=("install     FAILED (the example does not load the installed liblsk.so.0)"); return 1
    fi
    summary+=("$(printf 'install     %4ss  pkg-config: %s; soname %s; example says: %s' $(( $(date +%s) - t0 )) "$flags" "$soname" "$(head -n 1 <<<"$out")")")
    rm -rf "$dir"
}

run_part() {
    local part=$1 build="build-ci-$1" run="" msg
    local -a vars=()
    case $part in
        gcc)        vars=(CC=gcc) ;;
        clang)      vars=(CC="$CLANG") ;;
        asan-gcc)   vars=(CC=gcc SAN=1) ;;
        asan-clang) vars=(CC="$CLANG" SAN=1) ;;
        aarch64)    vars=(CC=aarch64-linux-gnu-gcc); run=$QEMU ;;
        noomp)      vars=(CC=gcc OPENMP=0) ;;
        *) summary+=("$part: unknown part (gcc clang asan-gcc asan-clang aarch64 noomp)"); return 2 ;;
    esac
    local log="kernels/$build/ci.log"
    echo "== $part: make -C kernels BUILD=$build ${vars[*]} test${run:+ RUN=\"$run\"}"
    rm -rf "kernels/$build"
    mkdir -p "kernels/$build"
    local t0 t1 t2 rc
    t0=$(date +%s)
    # Build (library + test program); Swift's clang links with gold, which prints one
    # harmless "Cannot export local symbol" line per ASan helper: left in the log only.
    if ! make -C kernels -j"$JOBS" BUILD="$build" "${vars[@]}" "$build/lsk_test" >"$log" 2>&1; then
        tail -n 30 "$log"
        summary+=("$(printf '%-11s build FAILED (see %s)' "$part" "$log")")
        return 1
    fi
    t1=$(date +%s)
    local warnings
    warnings=$(grep 'warning:' "$log" | grep -vc 'Cannot export local symbol' || true)
    make -s --no-print-directory -C kernels BUILD="$build" "${vars[@]}" RUN="$run" test 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    t2=$(date +%s)
    local result
    result=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    msg=$(printf '%-11s build %4ss  test %4ss  %s' "$part" $((t1 - t0)) $((t2 - t1)) "${result:-no summary line}")
    [[ $warnings != 0 ]] && msg+="  ($warnings compiler warnings, see $log)"
    if [[ $rc -ne 0 || -z $result || $result != *" 0 failed" ]]; then
        summary+=("$msg  FAILED (exit $rc)")
        return 1
    fi
    if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' "$log"; then
        summary+=("$msg  FAILED (sanitizer report in $log)")
        return 1
    fi
    if [[ $part == aarch64 ]]; then
        # Proof that the NEON paths ran: the header lists neon, and every kernel family
        # made checks while neon was the active path.
        if ! grep -qE '^lsk .*ISA paths on this CPU:.* neon' "$log"; then
            summary+=("$msg  FAILED (neon not among the ISA paths)")
            return 1
        fi
        local fam
        for fam in gemm conv dwconv winograd eltwise norm pool linear loss shuffle; do
            if ! grep -qE "^$fam +[0-9]+ passed, 0 failed; checks per ISA path:.* neon [1-9]" "$log"; then
                summary+=("$msg  FAILED (no neon checks in family $fam)")
                return 1
            fi
        done
        msg+="  [neon checked in every family]"
    fi
    summary+=("$msg")
    return 0
}

if [[ " ${parts[*]} " == *" asan-clang "* || " ${parts[*]} " == *" clang "* ]]; then
    if ! command -v "$CLANG" >/dev/null; then
        echo "test-c-all: no clang ($CLANG); install Swift or set CLANG=" >&2
        exit 2
    fi
fi
if [[ " ${parts[*]} " == *" asan-clang "* ]]; then
    # Swift's clang ships its own compiler-rt (ASan + UBSan runtimes); check it links.
    tmp=$(mktemp -d)
    if ! echo 'int main(void){return 0;}' | "$CLANG" -x c - -fsanitize=address,undefined -o "$tmp/a" 2>"$tmp/err"; then
        echo "test-c-all: $CLANG cannot link -fsanitize=address,undefined:" >&2
        grep -v 'Cannot export' "$tmp/err" | head -n 5 >&2
        exit 2
    fi
    rm -rf "$tmp"
fi

start=$(date +%s)
for p in "${parts[@]}"; do
    case $p in
        runtime) run_runtime || failed=1 ;;
        install) run_install || failed=1 ;;
        *) run_part "$p" || failed=1 ;;
    esac
done
echo
echo "== C kernel library: $(( $(date +%s) - start )) s"
printf '%s\n' "${summary[@]}"
exit $failed
