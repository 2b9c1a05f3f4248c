#!/bin/sh
#
# Run the test suite of build directory $1 (default obj) with kyua and end
# with one line "N passed, N failed".  Exit 1 if anything failed.
#
# The tests run the real daemon as root on 127.0.0.1; each cleans up the
# processes it started, by pid.

set -u
O=${1:-obj}
top=$(cd "$(dirname "$0")/.." && pwd)
case $O in
/*)	;;
*)	O=$top/$O ;;
esac

# The atf-sh scripts and data files go beside the atf-c programs.
mkdir -p "$O/regress"
(cd "$top/regress" && find . -type f ! -name '*.c' ! -name '*.inc' \
    ! -name 'run.sh') | while read -r f; do
	mkdir -p "$O/regress/$(dirname "$f")"
	cp -p "$top/regress/$f" "$O/regress/$f"
done
# What the tests need from etc/: the state maker and the example config.
mkdir -p "$O/regress/etc"
cp -p "$top/etc/mkstate.sh" "$top/etc/signerd.conf" "$O/regress/etc/"
find "$O/regress" -name '*.sh' -exec chmod +x {} +
# The source tree, for the tests of what is shipped (README, etc/, docs/).
echo "$top" >"$O/regress/top"

results=$O/kyua-results.db
rm -f "$results"
log=$O/kyua.log
(cd "$O/regress" && kyua test --results-file="$results" \
    --kyuafile=Kyuafile) >"$log" 2>&1
kyua_rc=$?
cat "$log"

# Show what failed, with its output.
if [ $kyua_rc -ne 0 ]; then
	kyua report --results-file="$results" --verbose \
	    --results-filter=broken,failed 2>&1 | head -n 400
fi

# "Test cases: 26 total, 0 skipped, 0 expected failures, 0 broken, 0 failed"
line=$(kyua report --results-file="$results" 2>/dev/null |
    grep '^Test cases:' | tail -n 1)
if [ -z "$line" ]; then
	echo "0 passed, 1 failed"
	exit 1
fi
set -- $(echo "$line" | tr -c '0-9\n' ' ')
total=$1 skipped=$2 xfail=$3 broken=$4 failed=$5
passed=$((total - skipped - xfail - broken - failed))
echo "$passed passed, $((broken + failed)) failed, $skipped skipped"
[ $((broken + failed)) -eq 0 ] && [ $kyua_rc -eq 0 ]
