#!/usr/bin/env bash
# build-deb.sh — build the Debian package aldproxy_<version>_<arch>.deb.
#
#   bash scripts/build-deb.sh [OUTDIR]      # default OUTDIR: ./dist
#
# dpkg-buildpackage wants debian/ at the top of the source tree, while this
# repository keeps it in packaging/debian.  So: the source tree (the files
# git knows, tracked or new but not ignored — or, without git, everything but
# build*/ and dist/) is copied to a temporary directory, packaging/debian is
# copied there as debian/, and `dpkg-buildpackage -us -uc -b` runs there.
# The .deb (and the .buildinfo/.changes) end up in OUTDIR; the build log is
# OUTDIR/build-deb.log.  Needs dpkg-dev, debhelper, fakeroot and the
# Build-Depends of packaging/debian/control (scripts/deps.sh installs those);
# it installs nothing itself.  Set DEB_BUILD_OPTIONS=nocheck to skip the unit
# tests run during the build, parallel=N to change the parallelism.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for t in dpkg-buildpackage dh fakeroot; do
	command -v "$t" >/dev/null ||
		{ echo "build-deb.sh: $t not found (apt-get install dpkg-dev debhelper fakeroot)" >&2; exit 1; }
done
if ! (cd "$top" && dpkg-checkbuilddeps packaging/debian/control) 2>/dev/null; then
	(cd "$top" && dpkg-checkbuilddeps packaging/debian/control) || true
	echo "build-deb.sh: install the missing build dependencies above (bash scripts/deps.sh)" >&2
	exit 1
fi

work=$(mktemp -d /tmp/aldproxy-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/aldproxy"
mkdir -p "$src"

# The source tree without build directories, dist/ or packaging/debian itself.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$top" && while IFS= read -r -d '' f; do
			[ -f "$f" ] || [ -L "$f" ] || continue     # deleted in the working tree
			case "$f" in packaging/debian/* | dist/*) continue ;; esac
			printf '%s\0' "$f"
		done) |
		tar -C "$top" --null --no-recursion -T - -cf - | tar -C "$src" -xf -
else
	(cd "$top" && find . -mindepth 1 -maxdepth 1 ! -name 'build*' ! -name dist ! -name .git \
		-exec cp -a {} "$src/" \;)
	rm -rf "$src/packaging/debian"
fi
cp -a "$top/packaging/debian" "$src/debian"

case " ${DEB_BUILD_OPTIONS:-} " in
*" parallel="*) ;;
*) DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)" ;;
esac
export DEB_BUILD_OPTIONS
log="$out/build-deb.log"
echo "build-deb.sh: building in $src (log: $log)" >&2
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -n 60 "$log" >&2
	echo "build-deb.sh: dpkg-buildpackage failed (full log: $log)" >&2
	exit 1
fi

n=0
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
	[ -e "$f" ] || continue
	cp -f "$f" "$out/"
	case "$f" in *.deb) echo "$out/$(basename "$f")"; n=$((n + 1)) ;; esac
done
[ "$n" -gt 0 ] || { echo "build-deb.sh: no .deb was produced (log: $log)" >&2; exit 1; }
