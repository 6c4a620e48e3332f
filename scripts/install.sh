#!/usr/bin/env bash
# scripts/install.sh - `make install` and `make uninstall` (mk/install.mk calls it).
#
#   scripts/install.sh --build DIR --prefix P [--destdir D] --version V      install
#   scripts/install.sh --uninstall --prefix P [--destdir D] --version V      remove it again
#
# What goes where (under D/P):
#   bin/                          tapstack, tapstack-drill, tapstack-kernel
#   lib/                          libtapstack.so.V, its soname and dev links, libtapstack.a
#   lib/pkgconfig/tapstack.pc     Cflags/Libs for `pkg-config --cflags --libs tapstack`
#   include/tapstack/             tapstack.h (the umbrella) and every header it reaches, with
#                                 their includes rewritten to <tapstack/...>
#   share/man/man1/               tapstack.1, tapstack-drill.1
#   share/bash-completion/completions/tapstack
# Uninstall removes exactly these files (and include/tapstack/), never a directory it did not make.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build prefix=/usr/local destdir= version= uninstall=0
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--prefix) prefix=$2; shift 2 ;;
	--destdir) destdir=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	--uninstall) uninstall=1; shift ;;
	*) echo "install.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
case "$prefix" in /*) ;; *) echo "install.sh: PREFIX must be an absolute path (got '$prefix')" >&2; exit 2 ;; esac
[ -n "$version" ] || { echo "install.sh: --version is required" >&2; exit 2; }
major=${version%%.*}
root=$destdir$prefix
PROGRAMS=(tapstack tapstack-drill tapstack-kernel)
MANPAGES=(docs/man/tapstack.1 docs/man/tapstack-drill.1)
COMPLETION=scripts/tapstack-completion.bash

if [ "$uninstall" = 1 ]; then
	for p in "${PROGRAMS[@]}"; do rm -f "$root/bin/$p"; done
	rm -f "$root/lib/libtapstack.so.$version" "$root/lib/libtapstack.so.$major" "$root/lib/libtapstack.so" \
		"$root/lib/libtapstack.a" "$root/lib/pkgconfig/tapstack.pc" \
		"$root/share/bash-completion/completions/tapstack"
	for m in "${MANPAGES[@]}"; do rm -f "$root/share/man/man1/$(basename "$m")"; done
	rm -rf "$root/include/tapstack"
	echo "uninstalled tapstack $version from $root"
	exit 0
fi

for p in "${PROGRAMS[@]}"; do install -D -m 755 "$build/$p" "$root/bin/$p"; done
install -D -m 755 "$build/lib/libtapstack.so.$version" "$root/lib/libtapstack.so.$version"
ln -sf "libtapstack.so.$version" "$root/lib/libtapstack.so.$major"
ln -sf "libtapstack.so.$major" "$root/lib/libtapstack.so"
install -D -m 644 "$build/lib/libtapstack.a" "$root/lib/libtapstack.a"

# The headers: everything the umbrella reaches (the compiler says which), laid out as in the
# tree below stack/ (drivers/ beside them), each include made <tapstack/...> so that only
# -I$prefix/include is needed and no generic name (core/, tcp/) lands on a user's path.
rm -rf "$root/include/tapstack"
headers=$(${CC:-cc} -std=c11 -D_GNU_SOURCE -I stack -I . -MM -MT x stack/tapstack/tapstack.h |
	tr ' \\' '\n\n' | grep '\.h$' | grep -v '^/' | sort -u)
for h in $headers; do
	rel=${h#stack/}
	rel=${rel#tapstack/}     # the umbrella: stack/tapstack/tapstack.h -> tapstack/tapstack.h
	install -d "$root/include/tapstack/$(dirname "$rel")"
	sed 's|^\([[:space:]]*#[[:space:]]*include[[:space:]]*\)"\([^"]*\)"|\1<tapstack/\2>|' "$h" \
		> "$root/include/tapstack/$rel"
	chmod 644 "$root/include/tapstack/$rel"
done

install -d "$root/lib/pkgconfig"
cat > "$root/lib/pkgconfig/tapstack.pc" <<EOF
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: tapstack
Description: A userspace TCP/IP stack on a Linux TAP device
Version: $version
Libs: -L\${libdir} -ltapstack
Libs.private: -luring -lpthread
Cflags: -I\${includedir}
EOF
install -d "$root/share/man/man1"
for m in "${MANPAGES[@]}"; do
	sed "s/@VERSION@/$version/" "$m" >"$root/share/man/man1/$(basename "$m")"
	chmod 644 "$root/share/man/man1/$(basename "$m")"
done
install -D -m 644 "$COMPLETION" "$root/share/bash-completion/completions/tapstack"
echo "installed tapstack $version into $root ($(echo "$headers" | wc -w) headers)"
