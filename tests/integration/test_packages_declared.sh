#!/usr/bin/env bash
# test_packages_declared.sh — the one list of packages (tests/rig/packages.sh)
# is complete and true: every command and module a test asks for with `need`
# is declared with its package, every declared package is one scripts/deps.sh
# installs, and after scripts/deps.sh every declared command and module is
# really there (so a fresh machine gets all of them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
. "$RIG_LIB_DIR/packages.sh"
test_begin test_packages_declared

essential=" perl-base coreutils "
in_all() { local p; for p in "${PKGS_ALL[@]}"; do [ "$p" = "$1" ] && return 0; done; [[ $essential == *" $1 "* ]]; }

bad=()
for t in "${!TOOL_PKG[@]}"; do in_all "${TOOL_PKG[$t]}" || bad+=("command $t: package ${TOOL_PKG[$t]} is in no group"); done
for m in "${!PYMOD_PKG[@]}"; do in_all "${PYMOD_PKG[$m]}" || bad+=("python $m: package ${PYMOD_PKG[$m]} is in no group"); done
for m in "${!PERLMOD_PKG[@]}"; do in_all "${PERLMOD_PKG[$m]}" || bad+=("perl $m: package ${PERLMOD_PKG[$m]} is in no group"); done
[ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
ok "${#TOOL_PKG[@]} commands, ${#PYMOD_PKG[@]} Python and ${#PERLMOD_PKG[@]} Perl modules map to packages scripts/deps.sh installs"

# every `need` of every test and of the rig names something declared
while read -r word; do
	case $word in
	py:*) [ -n "${PYMOD_PKG[${word#py:}]:-}" ] || bad+=("need $word: not in PYMOD_PKG") ;;
	pl:*) [ -n "${PERLMOD_PKG[${word#pl:}]:-}" ] || bad+=("need $word: not in PERLMOD_PKG") ;;
	*) [ -n "${TOOL_PKG[$word]:-}" ] || bad+=("need $word: not in TOOL_PKG") ;;
	esac
done < <(grep -hE '^\s*(\[.*\] \|\| )?need ' $(ls "$here"/test_*.sh | grep -v /test_packages_declared.sh) "$RIG_LIB_DIR"/*.sh | sed -E 's/.*need //; s/#.*//' | tr ' \t' '\n\n' | grep -v '^$' | sort -u)
[ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
ok "every need of the tests and the rig is declared"

# and installed: what a fresh machine has after scripts/deps.sh
need "${!TOOL_PKG[@]}" $(printf 'py:%s ' "${!PYMOD_PKG[@]}") $(printf 'pl:%s ' "${!PERLMOD_PKG[@]}")
ok "every declared command and module is present"
test_pass
