#!/usr/bin/env bash
# Upstream's own test scripts (Debian package ostree-tests, 2022.7) as our conformance suite.
#
# Runs each installed test-*.sh twice: with upstream's CLI (/usr/bin/ostree) and with ours
# first on PATH as `ostree` (upstream's ostree-trivial-httpd helper stays upstream's: our
# `ostree trivial-httpd` execs it, as upstream's CLI does). Prints one line per script with both
# results and a summary. A script counts for us only when it exits 0 with at least as many
# `ok` cases as upstream's run.
#
# test/upstream/passing.txt is the ratchet: the scripts we have made pass. The run fails when
# one of them no longer matches upstream (a regression), or when upstream itself fails one. A
# script not yet listed prints "not yet" and is counted against us in the summary line; one that
# now matches but is not listed prints "matches (add to passing.txt)".
#
# usage: run-suite.sh [-j JOBS] [-s upstream|ours|both|none] [-w WORKDIR] [script-name...]
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
suite_dir=/usr/libexec/installed-tests/libostree
jobs=2
side=both
work="$root/test-results/upstream"
timeout_s=${UPSTREAM_SCRIPT_TIMEOUT:-900}

while getopts 'j:s:w:' opt; do
  case $opt in
    j) jobs=$OPTARG ;;
    s) side=$OPTARG ;;
    w) work=$OPTARG ;;
    *) echo "usage: $0 [-j JOBS] [-s upstream|ours|both] [-w WORKDIR] [script...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

if [ ! -d "$suite_dir" ]; then
  echo "run-suite: $suite_dir is missing: install the Debian package ostree-tests (make deps)" >&2
  exit 2
fi

if [ $# -gt 0 ]; then
  scripts=()
  for s in "$@"; do scripts+=("$(basename "${s%.sh}").sh"); done
else
  mapfile -t scripts < <(cd "$suite_dir" && ls test-*.sh | sort)
fi
ratchet_file="$here/passing.txt"

mkdir -p "$work/ours-bin"
ln -sf "$root/bin/ostree" "$work/ours-bin/ostree"

# run_one SIDE SCRIPT: runs one script in a fresh empty directory; writes SIDE/SCRIPT.log and
# SIDE/SCRIPT.result ("EXIT OKCOUNT SECONDS").
run_one() {
  local side=$1 script=$2
  local out="$work/$side" dir="$work/$side/${script%.sh}.tmp"
  mkdir -p "$out"
  chattr -R -i "$dir" 2>/dev/null; rm -rf "$dir"; mkdir -p "$dir"
  local path=$PATH
  [ "$side" = ours ] && path="$work/ours-bin:$PATH"
  local start=$SECONDS
  (cd "$dir" && env PATH="$path" G_TEST_SRCDIR="$suite_dir" G_TEST_BUILDDIR="$suite_dir" \
      timeout --kill-after=10 "$timeout_s" "$suite_dir/$script") >"$out/$script.log" 2>&1 </dev/null
  local rc=$?
  local oks
  oks=$(grep -c -E '^ok([^A-Za-z0-9_-]|$)' "$out/$script.log")
  echo "$rc $oks $((SECONDS - start))" >"$out/$script.result"
  # Keep the directory of a failure for inspection; drop a pass's.
  if [ "$rc" = 0 ]; then chattr -R -i "$dir" 2>/dev/null; rm -rf "$dir"; fi
  printf '  %-8s %-45s exit %-3s ok %-3s %ss\n' "$side" "$script" "$rc" "$oks" "$((SECONDS - start))"
}
export -f run_one
export work timeout_s suite_dir

sides=()
case $side in
  both) sides=(upstream ours) ;;
  upstream|ours) sides=("$side") ;;
  none) sides=() ;;  # only print the table of the last runs
  *) echo "run-suite: -s takes upstream, ours or both" >&2; exit 2 ;;
esac

for s in "${sides[@]}"; do
  echo "== running ${#scripts[@]} scripts with $s's CLI ($jobs at a time; logs in $work/$s)"
  printf '%s\n' "${scripts[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$0" "$1"' "$s" {}
done

# The table: both results per script, and the summary.
read_result() { [ -f "$work/$1/$2.result" ] && cat "$work/$1/$2.result" || echo "- - -"; }
listed() { grep -q -x -F "$1" "$ratchet_file" 2>/dev/null; }
passed_up=0 matched=0 cases_up=0 cases_ours=0 failures=0
echo
printf '%-45s %-16s %-16s %s\n' script upstream ours verdict
for script in "${scripts[@]}"; do
  read -r up_rc up_ok _ <<<"$(read_result upstream "$script")"
  read -r our_rc our_ok _ <<<"$(read_result ours "$script")"
  if [ "$up_rc" = 0 ]; then
    passed_up=$((passed_up + 1)); cases_up=$((cases_up + up_ok))
    if [ "$our_rc" = 0 ] && [ "$our_ok" -ge "$up_ok" ] 2>/dev/null; then
      matched=$((matched + 1)); cases_ours=$((cases_ours + up_ok))
      verdict=match; listed "$script" || verdict="matches (add to passing.txt)"
    else
      [ "$our_ok" != - ] && cases_ours=$((cases_ours + (our_ok < up_ok ? our_ok : up_ok)))
      if listed "$script"; then verdict="FAIL (regression: listed in passing.txt)"; failures=$((failures + 1))
      else verdict="not yet"; fi
    fi
  elif [ "$up_rc" = - ]; then
    verdict="not run"
  else
    verdict="FAIL (upstream's own run fails here)"; failures=$((failures + 1))
  fi
  printf '%-45s %-16s %-16s %s\n' "$script" "exit $up_rc ok $up_ok" "exit $our_rc ok $our_ok" "$verdict"
done
echo
echo "ours matches upstream on $matched of the $passed_up scripts it passes here, and on $cases_ours of its $cases_up cases"
[ "$failures" = 0 ]
