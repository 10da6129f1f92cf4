#!/usr/bin/env bash
# The standalone C kernel library, checked five ways (no Swift involved). Each part is a clean
# build of kernels/ (liblsk.a + the C test program, same Makefile) in its own folder
# kernels/build-ci-<part>, then the test program: every kernel against its scalar oracle on
# every ISA path the CPU has, plus the invalid-argument family. A part passes when the
# program exits 0 and prints "N passed, 0 failed".
#
#   gcc         x86-64, gcc + OpenMP (libgomp)
#   clang       x86-64, clang (Swift's) + OpenMP (Debian's libomp, /usr/lib/llvm-14/lib)
#   asan-gcc    gcc   -fsanitize=address,undefined -fno-sanitize-recover=all  (make SAN=1)
#   asan-clang  clang -fsanitize=address,undefined -fno-sanitize-recover=all
#   aarch64     aarch64-linux-gnu-gcc + OpenMP, run under qemu-aarch64-static; must also
#               show NEON checks in every kernel family's summary line
#   noomp       x86-64, gcc, OPENMP=0 (every file must build and pass without OpenMP)
#
# Usage: tools/test-c-all.sh [part ...]        (default: all six, in that order)
# Env:   JOBS (make -j, default: nproc), CLANG (default: clang on PATH, else Swift's),
#        QEMU (default: qemu-aarch64-static -L /usr/aarch64-linux-gnu)
# Needs: tools/setup.sh --cross (cross gcc, arm64 libc, qemu-user-static).
set -uo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}
CLANG=${CLANG:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
QEMU=${QEMU:-qemu-aarch64-static -L /usr/aarch64-linux-gnu}
parts=("$@")
((${#parts[@]})) || parts=(gcc clang asan-gcc asan-clang aarch64 noomp)

# Sanitizer reports abort the program (-fno-sanitize-recover=all, ASan's default); print
# UBSan stacks too. Leak checking stays on (scratch buffers are reachable from TLS).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

summary=()
failed=0

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
    run_part "$p" || failed=1
done
echo
echo "== C kernel library: $(( $(date +%s) - start )) s"
printf '%s\n' "${summary[@]}"
exit $failed
