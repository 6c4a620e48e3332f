#!/usr/bin/env bash
# Installs the Debian packages tapstack's build and tests need, if any is missing.
# Idempotent and quick when everything is present (one dpkg query); non-interactive, so it
# works under CI=true. Needs root only when something must be installed.
set -eu
PACKAGES=(
	# one per line, in alphabetical order, so parallel additions merge cleanly
	apache2-utils
	arping
	build-essential
	clang
	curl
	ethtool
	iperf3
	iproute2
	iputils-ping
	libclang-rt-14-dev
	libcmocka-dev
	liburing-dev
	llvm
	netcat-openbsd
	nginx
	nmap
	pkgconf
	python3
	redis-server
	socat
	strace
	tcpdump
	valgrind
	wget
	wrk
)
missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install; run: sudo scripts/deps.sh" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "deps: done"
