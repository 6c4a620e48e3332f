#!/usr/bin/env bash
# test_install.sh - tapstack as an installed library (issue 12 item 2): `make install` into a
# fresh PREFIX puts every promised file there; both installed libraries export only ts_* and
# tapstack_* names (nm); the shared one has a soname; docs/library.md's example builds with
# `pkg-config --cflags --libs tapstack` in C, in C++ and statically, a program with its own
# timer_init/pbuf_alloc links without a clash, and the example really echoes over a TAP in a
# namespace of its own; `make uninstall` leaves no file behind.
. "$(dirname "$0")/lib.sh"

net_setup install
P=$WORK/prefix
make -C "$NET_ROOT" --no-print-directory -s install PREFIX="$P" >"$WORK/install.log" 2>&1
check "make install PREFIX=$P" test $? -eq 0 || cat "$WORK/install.log"
VERSION=$(sed -n 's/^#define TAPSTACK_VERSION "\(.*\)"/\1/p' "$NET_ROOT/stack/core/api.h")
for f in bin/tapstack bin/tapstack-drill lib/libtapstack.so.$VERSION lib/libtapstack.so.${VERSION%%.*} \
	lib/libtapstack.so lib/libtapstack.a lib/pkgconfig/tapstack.pc include/tapstack/tapstack.h \
	include/tapstack/stack.h share/man/man1/tapstack.1 share/man/man1/tapstack-drill.1 \
	share/bash-completion/completions/tapstack; do
	check "installed $f" test -e "$P/$f"
done
check "the installed program prints its version" grep -qx "tapstack $VERSION" <("$P/bin/tapstack" --version)
check "man tapstack renders, with the version, every option the program's --help names" \
	bash -c "m=\$(MANWIDTH=200 man -l '$P/share/man/man1/tapstack.1' 2>/dev/null); grep -q 'tapstack $VERSION' <<<\"\$m\" &&
		for o in \$('$P/bin/tapstack' --help | grep -o -- '--[a-z-]*' | sort -u); do grep -q -- \"\$o\" <<<\"\$m\" || { echo \"missing \$o\"; exit 1; }; done"
check "man tapstack-drill renders" bash -c "man -l '$P/share/man/man1/tapstack-drill.1' 2>/dev/null | grep -q 'update-expectations'"
check "bash completion: 'tapstack stats --j' completes to --json, 'tapstack --acc' to --access-log" \
	bash -c "source '$P/share/bash-completion/completions/tapstack'
		COMP_WORDS=(tapstack stats --j); COMP_CWORD=2; _tapstack; [ \"\${COMPREPLY[*]}\" = --json ] || exit 1
		COMP_WORDS=(tapstack --acc); COMP_CWORD=1; _tapstack; [ \"\${COMPREPLY[*]}\" = --access-log ]"

# Exported names: only the public prefixes, and the API is really there.
nm -D --defined-only "$P/lib/libtapstack.so.$VERSION" | awk '{print $NF}' | sort -u >"$WORK/so.syms"
nm -g --defined-only "$P/lib/libtapstack.a" | awk 'NF == 3 {print $3}' | sort -u >"$WORK/a.syms"
for lib in so a; do
	bad=$(grep -cvE '^(ts_|tapstack_)' "$WORK/$lib.syms")
	check "lib$lib: every exported name has a ts_/tapstack_ prefix ($bad others: $(grep -vE '^(ts_|tapstack_)' "$WORK/$lib.syms" | head -n 5 | tr '\n' ' '))" test "$bad" -eq 0
	check "lib$lib exports ts_stack_init, ts_socket, ts_blocking_start, tapstack_version" \
		bash -c "grep -qx ts_stack_init $WORK/$lib.syms && grep -qx ts_socket $WORK/$lib.syms && grep -qx ts_blocking_start $WORK/$lib.syms && grep -qx tapstack_version $WORK/$lib.syms"
done
check "soname libtapstack.so.${VERSION%%.*}" \
	grep -q "SONAME.*\\[libtapstack.so.${VERSION%%.*}\\]" <(readelf -d "$P/lib/libtapstack.so.$VERSION")
check "installed headers include only <tapstack/...> (no generic names on the user's path)" \
	bash -c "! grep -rn '^[[:space:]]*#[[:space:]]*include[[:space:]]*\"' '$P/include/tapstack'"

# docs/library.md's example, the block after its excerpt marker (the page shows apps/examples/echo7.c).
awk '/<!-- check-docs: excerpt apps\/examples\/echo7.c -->/ {want = 1; next} want && /^```c/ {on = 1; next} on && /^```/ {exit} on' \
	"$NET_ROOT/docs/library.md" >"$WORK/echo7.c"
check "the example was found in docs/library.md" grep -q 'ts_blocking_accept' "$WORK/echo7.c"
cp "$WORK/echo7.c" "$WORK/echo7.cpp"
export PKG_CONFIG_PATH=$P/lib/pkgconfig
check "pkg-config --modversion tapstack is $VERSION" test "$(pkg-config --modversion tapstack)" = "$VERSION"
PC=$(pkg-config --cflags --libs tapstack)
PCS=$(pkg-config --static --cflags --libs tapstack)
check "C: cc -std=c11 -Wall -Wextra -Werror echo7.c \$(pkg-config --cflags --libs tapstack)" \
	cc -std=c11 -Wall -Wextra -Werror -o "$WORK/echo7" "$WORK/echo7.c" $PC
check "C++: c++ -std=c++17 -Wall -Wextra -Werror echo7.cpp \$(pkg-config ...)" \
	c++ -std=c++17 -Wall -Wextra -Werror -o "$WORK/echo7pp" "$WORK/echo7.cpp" $PC
check "static: cc -static echo7.c \$(pkg-config --static ...)" \
	cc -std=c11 -static -o "$WORK/echo7s" "$WORK/echo7.c" $PCS
check "the C program uses the installed shared library" \
	grep -q "$P/lib/libtapstack.so.${VERSION%%.*}" <(LD_LIBRARY_PATH=$P/lib ldd "$WORK/echo7")

# A user's own functions named like the library's insides, in a file of theirs that does not
# include ours: no "multiple definition", and each side calls its own.
cat >"$WORK/mine.c" <<'EOF'
int timer_init(void);
int pbuf_alloc(void);
int timer_init(void) { return 1; }
int pbuf_alloc(void) { return 2; }
EOF
cat >"$WORK/clash.c" <<'EOF'
#include <tapstack/tapstack.h>
int mine(void);
int main(void)
{
	struct stack_config cfg;
	ts_stack_config_default(&cfg);  /* calls the library's own *_config_default inside */
	return mine() == 3 && cfg.link.mtu == 1500 ? 0 : 1;
}
EOF
printf 'int timer_init(void);\nint pbuf_alloc(void);\nint mine(void);\nint mine(void) { return timer_init() + pbuf_alloc(); }\n' >>"$WORK/mine.c"
check "a program with its own timer_init and pbuf_alloc links and runs (shared)" \
	bash -c "cc -std=c11 -o '$WORK/clash' '$WORK/clash.c' '$WORK/mine.c' $PC && LD_LIBRARY_PATH='$P/lib' '$WORK/clash'"
check "... and statically" \
	bash -c "cc -std=c11 -static -o '$WORK/clashs' '$WORK/clash.c' '$WORK/mine.c' $PCS && '$WORK/clashs'"

# The example at work: the C++ build on the test's TAP, one echo.
# ip netns exec (not the nsx function) so that $! is the program; net_cleanup stops it if we stop early.
ip netns exec "$NS" env LD_LIBRARY_PATH="$P/lib" "$WORK/echo7pp" "$TAP" >"$WORK/echo7.log" 2>&1 &
EPID=$!
STACK_PID=$EPID
for _ in $(seq 50); do grep -q 'echo on' "$WORK/echo7.log" && break; sleep 0.1; done
got=$(echo "hello from the kernel" | nsx timeout 10 nc -q 1 "$STACK_IP" 7)
check "the example (C++ build) echoes over the TAP: '$got'" test "$got" = "hello from the kernel"
for _ in $(seq 50); do kill -0 "$EPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$EPID" 2>/dev/null; then kill "$EPID"; fi
wait "$EPID"
check "the example exits 0 after its one connection" test $? -eq 0
STACK_PID=

# Packaging: DESTDIR stages the tree; the .pc names the final PREFIX, not the stage.
make -C "$NET_ROOT" --no-print-directory -s install DESTDIR="$WORK/stage" PREFIX=/usr >>"$WORK/install.log" 2>&1
check "make install DESTDIR=stage PREFIX=/usr: files under the stage, the .pc says prefix=/usr" \
	bash -c "[ -e '$WORK/stage/usr/lib/libtapstack.a' ] && grep -qx 'prefix=/usr' '$WORK/stage/usr/lib/pkgconfig/tapstack.pc'"
make -C "$NET_ROOT" --no-print-directory -s uninstall DESTDIR="$WORK/stage" PREFIX=/usr >>"$WORK/install.log" 2>&1
check "make uninstall DESTDIR=stage leaves no file in the stage" test "$(find "$WORK/stage" -type f -o -type l | wc -l)" = 0

make -C "$NET_ROOT" --no-print-directory -s uninstall PREFIX="$P" >>"$WORK/install.log" 2>&1
left=$(find "$P" -type f -o -type l | wc -l)
check "make uninstall leaves no file ($left left)" test "$left" -eq 0
net_summary
