#!/usr/bin/env bash
# Fails when an #include points upward in the layering of docs/architecture.md:
#   core(0) < wire(1) < drivers(2) < link(3) < ip(4) < tcp, udp(5) < socket(6) < stack/*.c top(7)
# A file may include its own layer, any lower layer, and system headers. apps/ and tests/
# sit above everything and are not checked.
set -u
cd "$(dirname "$0")/.."
rank() {
	case "$1" in
	stack/core/*|core/*) echo 0 ;;
	stack/wire/*|wire/*) echo 1 ;;
	drivers/*) echo 2 ;;
	stack/link/*|link/*) echo 3 ;;
	stack/ip/*|ip/*) echo 4 ;;
	stack/tcp/*|tcp/*) echo 5 ;;
	stack/udp/*|udp/*) echo 5 ;;
	stack/socket/*|socket/*) echo 6 ;;
	stack/*|*) echo 7 ;;
	esac
}
bad=0 checked=0
while IFS= read -r f; do
	fr=$(rank "$f")
	while IFS= read -r inc; do
		checked=$((checked + 1))
		ir=$(rank "$inc")
		if [ "$ir" -gt "$fr" ]; then
			echo "layering: $f includes \"$inc\" (layer $ir above $fr)"
			bad=$((bad + 1))
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(find stack drivers -name '*.[ch]' | sort)
if [ "$bad" -ne 0 ]; then
	echo "layering: $bad upward include(s)"
	exit 1
fi
echo "layering: $checked includes checked, none points upward"
