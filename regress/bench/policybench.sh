#!/bin/sh
#
# policybench.sh [OBJDIR]: what the policy and the audit trail cost Sign
# (issue 11).  Sign P-256 on the software signer at c=4 b=16
# (kmipbench), four cases:
#	off	no grant, and the audit trail off ("audit no"): neither;
#	none	no grant in the keystore; alice signs her key; the audit
#		trail as configured by default (a record per item in the
#		file; no copy to the log);
#	grants	10000 grants held by other identities (for all scopes,
#		some on alice's key and on alice), loaded at start;
#		alice signs her key (the owner's path);
#	granted	the same 10000 and one more: bob signs alice's key
#		through his Sign grant (the grant's path).
# The machine's speed drifts by 10-20 % within minutes, more than what
# is measured, so the cases are paired: three daemons run side by side
# (trail off; trail on; trail on with the grants), each on a copy of
# one keystore, so that no restart comes between the cases of a round;
# each round runs every case once, with "off" before and after each
# (the cases' order reversed every other round), and a case's ratio in
# a round is against the mean of the two "off" runs around it, so that
# a drift weighs on both sides alike.  The daemons not measured are
# idle.  Prints, per case, the median of the
# rounds' ratios (and their range) with the median ops/s: "granted"
# against "off" is what the policy check and the audit record cost
# together.  Beside it, the same for the CPU time all of the measured
# daemon's processes spent per Sign (from /proc/PID/stat around each
# kmipbench, divided by the Signs `show metrics` counted meanwhile) and
# for the whole machine's.  Not run by the suite (BENCH_SECONDS,
# BENCH_RUNS, BENCH_ROUNDS change its length).

set -u
O=${1:-obj}
top=$(cd "$(dirname "$0")/../.." && pwd)
case $O in
/*)	;;
*)	O=$top/$O ;;
esac
BIN=$O/bin
BENCH=$O/regress/bench/kmipbench
SECS=${BENCH_SECONDS:-3}
RUNS=${BENCH_RUNS:-1}
ROUNDS=${BENCH_ROUNDS:-12}
NGRANTS=10000

for f in "$BIN/signerd" "$BIN/signerctl" "$BENCH"; do
	[ -x "$f" ] || { echo "policybench: $f missing" >&2; exit 1; }
done
command -v sqlite3 >/dev/null ||
    { echo "policybench: needs sqlite3" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/signerd-pbench.XXXXXX") || exit 1
chmod 755 "$T"
: >"$T/pids"

fail()
{
	echo "policybench: $*" >&2
	for d in off on grants; do
		[ -f "$T/$d.log" ] && tail -20 "$T/$d.log" >&2
	done
	exit 1
}

# stop_all: every daemon started, by the pids in $T/pids.
stop_all()
{
	for p in $(cat "$T"/*.parent 2>/dev/null); do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $(cat "$T"/*.parent 2>/dev/null); do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for p in $(sort -u "$T/pids"); do
		grep -q signerd "/proc/$p/cmdline" 2>/dev/null &&
		    kill -KILL "$p" 2>/dev/null
	done
	rm -f "$T"/*.parent
	: >"$T/pids"
}

cleanup()
{
	trap - EXIT INT TERM HUP
	stop_all
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# start D: the daemon D (off, on or grants), its configuration $T/D.conf.
start()
{
	"$BIN/signerd" -d -f "$T/$1.conf" >>"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.parent"
	echo $! >>"$T/pids"
	i=0
	until "$BIN/signerctl" -s "$T/$1.sock" show signers 2>/dev/null |
	    awk 'NR > 1 && $1 == "soft" && $5 == "ready"' | grep -q .; do
		kill -0 "$(cat "$T/$1.parent")" 2>/dev/null ||
		    fail "signerd ($1) exited"
		i=$((i + 1))
		[ $i -lt 100 ] || fail "signer ($1) not ready within 10 s"
		sleep 0.1
	done
	"$BIN/signerctl" -s "$T/$1.sock" show status |
	    awk 'NR > 1 && $3 > 0 { print $3 }' >>"$T/pids"
}

# cpu D: the daemon D's processes' CPU time so far (user + system,
# ticks), its engine's alone, the whole machine's busy time (every CPU's
# user, nice, system, irq and softirq: the client, the kernel's writeback
# of the trail, all), and the Sign requests D answered (show metrics), on
# one line.
cpu()
{
	t=0
	e=0
	for p in $("$BIN/signerctl" -s "$T/$1.sock" show status |
	    awk 'NR > 1 && $3 > 0 { print $1 "=" $3 }') \
	    parent="$(cat "$T/$1.parent")"; do
		n=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' \
		    "/proc/${p#*=}/stat")
		t=$((t + n))
		[ "${p%%=*}" = engine ] && e=$n
	done
	echo "$t $e $(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' \
	    /proc/stat) $("$BIN/signerctl" -s "$T/$1.sock" show metrics |
	    awk '/^signerd_requests_total\{.*"Sign"/ { n += $NF }
	    END { print n + 0 }')"
}

# run D PKIDIR KIND: one kmipbench on daemon D, its median ops/s to
# $T/KIND, the daemon's CPU time per Sign (us, all processes) to
# $T/KIND.cpu, its engine's to $T/KIND.eng and the machine's to
# $T/KIND.all.
run()
{
	c0=$(cpu "$1")
	timeout $((60 + 3 * RUNS * SECS)) "$BENCH" -R -k "$2" -s 127.0.0.1 \
	    -o sign-p256 -c 4 -b 16 -t "$SECS" -r "$RUNS" -w 1 -i "$KEY" \
	    "$(cat "$T/$1.port")" >"$T/out" 2>&1 ||
	    fail "kmipbench: $(tail -3 "$T/out")"
	c1=$(cpu "$1")
	awk '/median of/ { for (i = 2; i <= NF; i++)
		if ($i == "ops/s") print $(i - 1) }' "$T/out" >>"$T/$3"
	# A line per run, even without a count: the rounds stay paired.
	echo "$c0 $c1" | awk -v hz="$(getconf CLK_TCK)" -v d="$T/$3.cpu" \
	    -v e="$T/$3.eng" -v m="$T/$3.all" '{ n = $8 - $4; k = 1e6 / hz
		printf "%.2f\n", (n > 0 ? ($5 - $1) * k / n : 0) >> d
		printf "%.2f\n", (n > 0 ? ($6 - $2) * k / n : 0) >> e
		printf "%.2f\n", (n > 0 ? ($7 - $3) * k / n : 0) >> m }'
}

# grants N DB: the keystore DB holds N grants of others (and bob's Sign).
grants()
{
	{
		echo "BEGIN;"
		i=0
		while [ $i -lt "$1" ]; do
			case $((i % 4)) in
			0) echo "INSERT INTO grants VALUES ('user$i', 1," \
			    "'$KEY', $((1 << 33)), 0);" ;;
			1) echo "INSERT INTO grants VALUES ('user$i', 2," \
			    "'alice', $((1 << 33 | 1 << 10)), 0);" ;;
			2) echo "INSERT INTO grants VALUES ('user$i', 3," \
			    "'soft', $((1 << 8)), 0);" ;;
			3) echo "INSERT INTO grants VALUES ('user$i', 1," \
			    "'obj-$i', $((1 << 33)), 0);" ;;
			esac
			i=$((i + 1))
		done
		echo "INSERT INTO grants VALUES ('bob', 1, '$KEY'," \
		    "$((1 << 33)), 0);"
		echo "COMMIT;"
	} | sqlite3 "$2" || fail "sqlite3"
}

# conf D PORT [LINE]: the configuration of daemon D, its keystore in
# $T/ks.D (the audit trail beside it), LINE added.
conf()
{
	cat >"$T/$1.conf" <<EOT
user "_signerd"
chroot "$T/empty"
control socket "$T/$1.sock"
keystore "$T/ks.$1/keystore.db"
listen on 127.0.0.1 port $2 tls {
	certificate "$T/pki/server.crt"
	key "$T/pki/server.key"
	client ca "$T/pki/ca.crt"
}
signer "soft" openssl {
	kek file "$T/kek"
}
default signer "soft"
${3:-}
EOT
	echo "$2" >"$T/$1.port"
}

sh "$top/etc/mkstate.sh" "$T" >"$T/mkstate.log" 2>&1 ||
    fail "mkstate.sh: $(cat "$T/mkstate.log")"
export SIGNERD_LIBEXEC="$BIN"
mkdir -m 755 "$T/empty"
(umask 077; head -c 32 /dev/urandom >"$T/kek")
mkdir "$T/pki-bob"
cp "$T/pki/ca.crt" "$T/pki-bob/"
cp "$T/pki/bob.crt" "$T/pki-bob/client.crt"
cp "$T/pki/bob.key" "$T/pki-bob/client.key"
# Below Linux's ephemeral ports (32768 up), which clients' own
# connections take: a listener there may find its port in use.
PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
conf on "$PORT"
conf off $((PORT + 1)) "audit no"
conf grants $((PORT + 2))

# The key, made once; each daemon gets a copy of that keystore (and
# only it, not the first one's audit trail).
start on
KEY=$("$BENCH" -S -k "$T/pki" -s 127.0.0.1 -o sign-p256 "$PORT" \
    2>"$T/out" | tail -1)
[ -n "$KEY" ] || fail "no key: $(cat "$T/out")"
stop_all
for d in off grants; do
	mkdir "$T/ks.$d"
	cp -p "$T/ks.on/keystore.db" "$T/ks.$d/"
	chown --reference="$T/ks.on" "$T/ks.$d"
	chmod --reference="$T/ks.on" "$T/ks.$d"
done
grants $NGRANTS "$T/ks.grants/keystore.db"
for d in on off grants; do
	start "$d"
done
grep -q "$((NGRANTS + 1)) grants" "$T/grants.log" ||
    fail "the engine did not load the grants"

echo "Sign P-256, c=4 b=16, software signer, $(nproc) CPUs;" \
    "$ROUNDS rounds of $RUNS runs of $SECS s"
for k in off none grants granted; do
	: >"$T/$k"
	for m in "" .cpu .eng .all; do
		: >"$T/$k$m"
		: >"$T/$k$m.ref"
	done
done
# A round runs "off" before and after each case (A B A): a case's
# reference is the mean of the two "off" runs around it, so a drift
# within the round weighs on both sides alike.
r=0
while [ $r -lt "$ROUNDS" ]; do
	if [ $((r % 2)) -eq 0 ]; then
		order="none grants granted"
	else
		order="granted grants none"
	fi
	run off "$T/pki" off
	for k in $order; do
		case $k in
		none)		run on "$T/pki" none ;;
		grants)		run grants "$T/pki" grants ;;
		granted)	run grants "$T/pki-bob" granted ;;
		esac
		run off "$T/pki" off
		for m in "" .cpu .eng .all; do
			tail -2 "$T/off$m" | awk '{ s += $1 }
			    END { printf "%.4f\n", s / 2 }' >>"$T/$k$m.ref"
		done
	done
	r=$((r + 1))
done
stop_all

median()
{
	sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR % 2)
	    print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratios A B: line by line (round by round), A over B.
ratios()
{
	paste "$1" "$2" | awk '$2 > 0 { printf "%.4f\n", $1 / $2 }'
}

range()
{
	sort -g "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 }
	    END { printf "%.3f..%.3f", lo, hi }'
}

echo "Each round runs every case once, with \"off\" before and after" \
    "each; a ratio is a case over the mean of the two \"off\" runs" \
    "around it, the median of the rounds' ratios"
for m in "" .cpu .eng .all; do
	cp "$T/off$m" "$T/off$m.ref"
done
for k in off none grants granted; do
	ratios "$T/$k" "$T/$k.ref" >"$T/$k.r"
	ratios "$T/$k.cpu" "$T/$k.cpu.ref" >"$T/$k.cpu.r"
	ratios "$T/$k.eng" "$T/$k.eng.ref" >"$T/$k.eng.r"
	ratios "$T/$k.all" "$T/$k.all.ref" >"$T/$k.all.r"
	printf "%-8s %8s ops/s  ratio %.3f (%s)  runs: %s\n" "$k" \
	    "$(median "$T/$k")" "$(median "$T/$k.r")" "$(range "$T/$k.r")" \
	    "$(tr '\n' ' ' <"$T/$k")"
	printf "%-8s %8s us of CPU per Sign, all processes  ratio %.3f" \
	    "" "$(median "$T/$k.cpu")" "$(median "$T/$k.cpu.r")"
	printf " (%s)\n" "$(range "$T/$k.cpu.r")"
	printf "%-8s %8s us of CPU per Sign, the engine     ratio %.3f" \
	    "" "$(median "$T/$k.eng")" "$(median "$T/$k.eng.r")"
	printf " (%s)\n" "$(range "$T/$k.eng.r")"
	printf "%-8s %8s us of the machine's CPU per Sign  ratio %.3f" \
	    "" "$(median "$T/$k.all")" "$(median "$T/$k.all.r")"
	printf " (%s)\n" "$(range "$T/$k.all.r")"
done
