#!/usr/bin/env bash
# scripts/fuzz-cov.sh COVBUILD "CC FLAGS" TARGET... - `make fuzz-cov`: links each fuzz
# target with tests/fuzz/replay_main.c (no libFuzzer) against the whole coverage-instrumented
# library, replays its corpora (tests/fuzz/corpus/TARGET and build/fuzz/corpus/TARGET if a
# `make fuzz` run left one), and prints the share of stack/ functions each target reached,
# then all targets together. Needs llvm-profdata and llvm-cov (clang's toolchain).
set -u
cov=$1 cc=$2
shift 2
profdata=$(command -v llvm-profdata || ls /usr/lib/llvm-*/bin/llvm-profdata 2>/dev/null | tail -n 1)
llvmcov=$(command -v llvm-cov || ls /usr/lib/llvm-*/bin/llvm-cov 2>/dev/null | tail -n 1)
[ -n "$profdata" ] && [ -n "$llvmcov" ] || { echo "fuzz-cov: llvm-profdata and llvm-cov are needed"; exit 1; }
objs=() profs=()

# Functions defined in stack/*.c (a static inline of a header counts once per file that
# includes it, so headers are left out) and how many ran at least one region. blocking.c
# and loop.c are left out too: they are the real clock, poll(2) and threads, which a
# deterministic fuzzer must not run (the unit and integration tests do).
fn_cov() {
	awk '/^File/ { f = $2; gsub("[\047:]", "", f); c = (f ~ /\/stack\/.*\.c$/ && f !~ /\/stack\/(blocking|loop)\.c$/); next }
	     c && NF >= 10 && $2 ~ /^[0-9]+$/ && $1 != "TOTAL" { n++; if ($3 < $2) e++ }
	     END { printf "%d of %d stack/ functions reached (%.1f%%)", e, n, n ? 100 * e / n : 0 }' "$1"
}
for t in "$@"; do
	extra=""
	[ "$t" = http_parse ] && extra="apps/http_parse.c"
	[ "$t" = drill_parse ] && extra="tests/drill/lex.c tests/drill/parse.c"
	bin=$cov/fuzz_$t
	# shellcheck disable=SC2086
	$cc -o "$bin" tests/fuzz/fuzz_$t.c tests/fuzz/replay_main.c tests/fuzz/fuzz_peer.c $extra \
		-Wl,--whole-archive "$cov/libtapstack.a" -Wl,--no-whole-archive -luring -lpthread || exit 1
	rm -f "$cov/$t".*.profraw
	dirs=(tests/fuzz/corpus/"$t")
	[ "$t" = drill_parse ] && dirs=(tests/drill/scripts)
	[ -d build/fuzz/corpus/"$t" ] && dirs+=(build/fuzz/corpus/"$t")
	LLVM_PROFILE_FILE="$cov/$t.%p.profraw" "$bin" "${dirs[@]}" >/dev/null || { echo "fuzz-cov: $t failed on its corpus"; exit 1; }
	"$profdata" merge -sparse "$cov/$t".*.profraw -o "$cov/$t.profdata"
	objs+=(-object "$bin")
	profs+=("$cov/$t.profdata")
	"$llvmcov" report "$bin" -instr-profile="$cov/$t.profdata" -show-functions stack/ >"$cov/$t.functions.txt" 2>/dev/null
	echo "  $t: $(fn_cov "$cov/$t.functions.txt")"
done
"$profdata" merge -sparse "${profs[@]}" -o "$cov/all.profdata"
# The first object carries the whole library; the others add their own code.
"$llvmcov" report "${objs[@]:1}" -instr-profile="$cov/all.profdata" stack/ >"$cov/report.txt"
"$llvmcov" report "${objs[@]:1}" -instr-profile="$cov/all.profdata" -show-functions stack/ >"$cov/functions.txt" 2>/dev/null
echo "  per file: $cov/report.txt; every function: $cov/functions.txt"
echo "  never reached:"
awk '/^File/ { f = $2; gsub("[\047:]", "", f); sub(".*/stack/", "stack/", f); c = (f ~ /\.c$/ && f !~ /^stack\/(blocking|loop)\.c$/); next }
     c && NF >= 10 && $2 ~ /^[0-9]+$/ && $1 != "TOTAL" && !($3 < $2) { printf "    %s %s\n", f, $1 }' "$cov/functions.txt"
echo "fuzz-cov: all targets: $(fn_cov "$cov/functions.txt") (stack/blocking.c and stack/loop.c not counted)"
