#!/usr/bin/env bash
# test_profile_headers.sh — what ships stands alone: no file the package or an
# install ships (profiles/, docs/ with the man pages, conf/, packaging/,
# systemd/, man/ if present, README.md) points at a notes file or a path of a
# build machine — products.md, ../shared, /work/, .library — and the header
# of every product profile cites its sources by URL (the vendor's
# documentation or source, or the upstream component's where the product is
# built on one) or says that none was found, so that a reader of an
# installed profile can check it.
# Neither slapd nor aldproxyd is started: this reads files only, and runs on
# slapd's round only (no "directories:" line).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_profile_headers

# ---- no pointer to a notes file or a build machine's path
shipped=()
for p in profiles docs conf packaging systemd man README.md; do
	[ -e "$REPO/$p" ] && shipped+=("$REPO/$p")
done
[ ${#shipped[@]} -ge 5 ] || fail "expected profiles/, docs/, conf/, packaging/ and README.md under $REPO"
forbidden=(products.md ../shared /work/ .library)
hits=$(grep -rnIF "${forbidden[@]/#/-e}" "${shipped[@]}" 2>/dev/null || true)
[ -z "$hits" ] ||
	fail "shipped files point at a notes file or a build machine's path (${forbidden[*]}):
$(printf '%s\n' "$hits" | sed "s|^$REPO/||")"
n=$(find "${shipped[@]}" -type f | wc -l)
ok "$n shipped files name none of: ${forbidden[*]}"

# ---- every product profile's header cites its sources by URL
shopt -s nullglob
profiles=("$REPO"/profiles/*.yaml)
shopt -u nullglob
[ ${#profiles[@]} -gt 0 ] || fail "no profiles in $REPO/profiles"
bad=()
for f in "${profiles[@]}"; do
	name=$(basename "$f" .yaml)
	[ "$name" = demo ] && continue # the quick start's profile, no product
	# the header: the comment lines before the first YAML line
	header=$(awk '/^[^#]/ { exit } { print }' "$f")
	# a URL, or the statement that no public description was found (then
	# what the profile is based on, and what checks it, follow)
	if ! grep -qE 'https://[^ )]+' <<<"$header" &&
		! grep -qE '^# .*no public description of .* was found' <<<"$header"; then
		bad+=("$name.yaml: its header cites no source (no https:// URL, no 'no public description of ... was found')")
	fi
done
[ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
ok "$((${#profiles[@]} - 1)) product profiles cite their sources (a URL, or say none is public) in their headers"

# ---- every AD-emulating profile says which AD identifiers it provides, truly
out=$(python3 - "${profiles[@]}" <<'PY'
import sys, yaml
bad, n = [], 0
for f in sys.argv[1:]:
    text = open(f, encoding="utf-8").read()
    va = (yaml.safe_load(text) or {}).get("virtual_attributes") or {}
    # AD emulation: a computed attribute other than RFC 2307's memberUid
    if not any((v or {}).get("type") != "member_uid" for v in va.values()):
        continue
    n += 1
    header = "".join(l[1:] for l in text.splitlines(True) if l.startswith("#"))
    line = header.split("AD identifiers:", 1)[1].split(".", 1)[0] if "AD identifiers:" in header else None
    if line is None:
        bad.append("%s: no 'AD identifiers:' line in the header" % f)
        continue
    for k in ("objectGUID", "objectSid", "primaryGroupID"):
        if (k in va) != (k in line):
            bad.append("%s: the header says %r, the profile %s %s" % (f, line.strip(), "has" if k in va else "lacks", k))
print("\n".join(bad) if bad else "ok %d" % n)
PY
)
case $out in
ok\ *) ok "${out#ok } AD-emulating profiles name the AD identifiers they provide (objectGUID, objectSid, primaryGroupID)" ;;
*) fail "$out" ;;
esac

test_pass
