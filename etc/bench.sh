#!/bin/sh
#
# bench.sh [OBJDIR]: `make bench`.  Start signerd on 127.0.0.1 (a free
# port) in a temporary state directory and measure it with
# regress/bench/kmipbench, in parts (BENCH_PARTS, default "soft hsm scale",
# every row of issue 13's table in one run):
#
# soft	a software signer "soft" as the default: Sign (RSA-2048, P-256,
#	Ed25519) at c=1 b=1, c=4 b=1 and c=4 b=16, durable Create AES-256
#	at c=4 b=1 and b=16, Get at c=4; signatures against raw OpenSSL
#	(kmipbench).
#	Then a new TLS connection per request at c=1 (kmipbench -N, a
#	Get each): the handshake and the first answer after it.  Last,
#	regress/bench/hopbench: a 64-byte message through 2 and through 4
#	processes and back over socketpairs, waiting in epoll, without
#	any work: the floor of a c=1 request on this machine, which
#	makes the trips of the 4-process case (client, frontend,
#	engine, signer).
# hsm	a pkcs11 signer "hsm" (a SoftHSM2 token made here) as the default,
#	restarted with `sessions S` for S in BENCH_SESSIONS (1 2 4): Sign
#	of a key made in the token through KMIP, with S connections and
#	batches of BENCH_BATCHES (1 16) items, each run followed by a run
#	of regress/bench/p11bench (the raw C_Sign rate: S threads, one
#	session each, on the same key in the same token); a table of
#	ops/s, p50, p99 and the ratio to raw, medians of the runs, then
#	one of CPU time per signature: p11bench's, and through signerd
#	the client's and each process's, their sum and raw / sum (the
#	ratio all cores busy would allow).  With BENCH_HSM_DELAY=MS,
#	signerd and p11bench both load the token through
#	regress/p11fault's module, which makes every C_Sign wait MS
#	milliseconds first: a token whose signatures are not made on
#	this machine's CPU, as a network HSM's are not.  With
#	BENCH_HSM_CLIENTS=N, N connections per session (default 1).
# profile (not by default) where the time of a Sign goes on the pkcs11
#	signer with sessions 1: signerd under valgrind --tool=callgrind
#	(its seccomp filter left out by regress/bench/nosandbox.so, which
#	valgrind needs), twice per operation, with BENCH_PROFILE_N1 (50)
#	and BENCH_PROFILE_N2 (250) Sign requests from one connection; the
#	difference divided by the difference of the counts is what one
#	request costs each process in instructions, without the start-up;
#	the signer's share is split into C_SignInit+C_Sign (the token's
#	work, as p11bench measures it) and the rest; then the functions
#	that cost each process most per request.  Before that, without
#	valgrind, the CPU time (user and system, from /proc/PID/stat) each
#	process spends per request over BENCH_PROFILE_CPU_N (2000) Sign
#	requests, beside the raw C_Sign time (p11bench, one thread).
#	BENCH_PROFILE_SIGNERS="hsm soft" does the same on the openssl
#	signer too (no C_Sign split there: the signer column is all of
#	it, the signature included).
# scale	the keystore at two sizes: 1,000 objects, then
#	BENCH_SCALE (1,000,000) filled by regress/bench/ksfill while the
#	daemon is stopped (at most BENCH_FILL_SECONDS, 600: the size
#	reached is printed).  At each size, with a software signer: Get,
#	Sign P-256 and Locate by Name at c=4 b=1, and the engine's
#	resident memory after them; then the keystore's size on disk per
#	object, and each figure at the large size against the small.
#
# After every kmipbench run of the soft and hsm parts, the CPU time the
# daemon's processes spent per item answered meanwhile (engine, frontend,
# signers, parent; /proc/PID/stat around the run, items from `show
# metrics`), beside the client's own CPU per item that kmipbench prints:
# with both, 2 CPUs / (their sum) is the most this machine can do.
#
# The signatures of the soft and hsm parts also go, a row per case, to
# BENCH_CSV (default OBJDIR/bench.csv): op, algorithm, signer,
# concurrency (connections; for hsm also sessions and raw threads),
# batch, ops/s, the raw rate beside it (soft: OpenSSL, one thread; hsm:
# C_Sign with as many threads), p50 and p99 latency in ms.  With gnuplot
# they are then drawn into BENCH_PNG (default OBJDIR/bench.png) by
# regress/bench/bench.gp: ops/s against concurrency and batch size, a
# panel per algorithm, the raw rates as lines.  docs/bench.csv and
# docs/bench.png are such a run (cp them there to publish one).
#
# Every process started here is stopped by its pid and the state
# directory removed, also on failure.
#
# Environment: BENCH_SECONDS (per run, default 2), BENCH_RUNS (default
# 3), BENCH_WARMUP (default 1), BENCH_PARTS, BENCH_OPS (soft: default
# all operations), BENCH_HSM_OPS (hsm: default the three signatures),
# BENCH_SESSIONS, BENCH_BATCHES, BENCH_HSM_DELAY (hsm: none),
# BENCH_HSM_CLIENTS (hsm: 1),
# BENCH_PROFILE_OPS (default sign-p256 sign-ed25519 sign-rsa2048),
# BENCH_PROFILE_N1, BENCH_PROFILE_N2,
# BENCH_PROFILE_CPU_N, BENCH_PROFILE_SIGNERS (default hsm), BENCH_ARGS
# (more kmipbench options, e.g. "-p 4"), BENCH_SCALE, BENCH_FILL_SECONDS,
# BENCH_CONF (lines added to the configuration, e.g. "audit no" to
# measure without the audit trail), BENCH_KEEP=1 (keep the state
# directory, with the daemon's log), TMPDIR
# (where it is made: /tmp; its path must be searchable by the daemon's
# users).

set -u
O=${1:-obj}
top=$(cd "$(dirname "$0")/.." && pwd)
case $O in
/*)	;;
*)	O=$top/$O ;;
esac
BIN=$O/bin
BENCH=$O/regress/bench/kmipbench
P11BENCH=$O/regress/bench/p11bench
HOPBENCH=$O/regress/bench/hopbench
MODULE=/usr/lib/softhsm/libsofthsm2.so
P11MOD=$MODULE
DELAY=${BENCH_HSM_DELAY:-}
CPS=${BENCH_HSM_CLIENTS:-1}
SECS=${BENCH_SECONDS:-2}
RUNS=${BENCH_RUNS:-3}
WARM=${BENCH_WARMUP:-1}
PARTS=${BENCH_PARTS:-"soft hsm scale"}
OPS=${BENCH_OPS:-"sign-rsa2048 sign-p256 sign-ed25519 create-aes256 get"}
HSM_OPS=${BENCH_HSM_OPS:-"sign-rsa2048 sign-p256 sign-ed25519"}
SESSIONS=${BENCH_SESSIONS:-"1 2 4"}
BATCHES=${BENCH_BATCHES:-"1 16"}
PROF_OPS=${BENCH_PROFILE_OPS:-"sign-p256 sign-ed25519 sign-rsa2048"}
PROF_N1=${BENCH_PROFILE_N1:-50}
PROF_N2=${BENCH_PROFILE_N2:-250}
PROF_CPU_N=${BENCH_PROFILE_CPU_N:-2000}
PROF_SIGNERS=${BENCH_PROFILE_SIGNERS:-"hsm"}
NOSANDBOX=$O/regress/bench/nosandbox.so
KSFILL=$O/regress/bench/ksfill
SCALE=${BENCH_SCALE:-1000000}
FILL_SECS=${BENCH_FILL_SECONDS:-600}
CSV=${BENCH_CSV:-$O/bench.csv}
PNG=${BENCH_PNG:-$O/bench.png}

for f in "$BIN/signerd" "$BIN/signerctl" "$BIN/signerd-hsm" \
    "$BIN/signerd-frontend" "$BENCH" "$P11BENCH"; do
	if [ ! -x "$f" ]; then
		echo "bench: $f missing: make all first" >&2
		exit 1
	fi
done
for p in $PARTS; do
	case $p in
	soft|hsm|profile|scale) ;;
	*)	echo "bench: unknown part $p (soft, hsm, profile, scale)" >&2
		exit 1 ;;
	esac
done
case " $PARTS " in
*" profile "*)
	if ! command -v valgrind >/dev/null ||
	    ! command -v callgrind_annotate >/dev/null ||
	    [ ! -r "$NOSANDBOX" ]; then
		echo "bench: the profile part needs valgrind and" \
		    "$NOSANDBOX" >&2
		exit 1
	fi
	if [ "$PROF_N2" -le "$PROF_N1" ]; then
		echo "bench: BENCH_PROFILE_N2 must exceed BENCH_PROFILE_N1" >&2
		exit 1
	fi
	;;
esac
case " $PARTS " in
*" hsm "*|*" profile "*)
	if [ ! -r "$MODULE" ] || ! command -v softhsm2-util >/dev/null; then
		echo "bench: the hsm and profile parts need SoftHSM2" \
		    "($MODULE)" >&2
		exit 1
	fi
	;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: signerd starts as root (it drops privileges itself)" >&2
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/signerd-bench.XXXXXX") || exit 1
chmod 755 "$T"
PARENT=
CHILD=
: >"$T/pids"

# Stop the daemon: SIGTERM to its parent, SIGKILL after STOPWAIT s
# (5; more under valgrind); then what is left of its recorded children,
# if they still are signerd's.
STOPWAIT=5
daemon_stop()
{
	if [ -n "$PARENT" ] && kill -0 "$PARENT" 2>/dev/null; then
		kill -TERM "$PARENT" 2>/dev/null
		i=0
		while kill -0 "$PARENT" 2>/dev/null &&
		    [ $i -lt $((STOPWAIT * 10)) ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$PARENT" 2>/dev/null; then
			echo "bench: signerd ignored SIGTERM for $STOPWAIT s:" \
			    "SIGKILL" >&2
			kill -KILL "$PARENT" 2>/dev/null
		fi
		wait "$PARENT" 2>/dev/null
	fi
	PARENT=
	for p in $(sort -u "$T/pids"); do
		if grep -q signerd "/proc/$p/cmdline" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
		fi
	done
	: >"$T/pids"
}

cleanup()
{
	trap - EXIT INT TERM HUP
	if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
		kill -TERM "$CHILD" 2>/dev/null
		wait "$CHILD" 2>/dev/null
	fi
	daemon_stop
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: state kept in $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail()
{
	echo "bench: $*" >&2
	[ -f "$T/log" ] && tail -20 "$T/log" >&2
	exit 1
}

case " $PARTS " in
*" hsm "*|*" profile "*)	tokens=hsm ;;
*)		tokens= ;;
esac
sh "$top/etc/mkstate.sh" "$T" $tokens >"$T/mkstate.log" 2>&1 ||
    fail "mkstate.sh: $(cat "$T/mkstate.log")"
export SOFTHSM2_CONF="$T/softhsm2.conf"
if [ -n "$DELAY" ]; then
	P11MOD=$O/regress/p11fault/p11fault.so
	[ -r "$P11MOD" ] || fail "BENCH_HSM_DELAY needs $P11MOD"
	echo "C_Sign delay $DELAY" >"$T/p11delay"
	chmod 644 "$T/p11delay"
	export P11FAULT_CONTROL="$T/p11delay"
fi
export SIGNERD_LIBEXEC="$BIN"
mkdir -m 755 "$T/empty"
(umask 077; head -c 32 /dev/urandom >"$T/kek")
CTL=$T/ctl.sock

# A port nobody listens on, between 20000 and 40000.
i=0
while :; do
	# Below Linux's ephemeral ports (32768 up), which clients' own
	# connections take: a listener there may find its port in use.
	PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
	[ -z "$(ss -Htln "sport = :$PORT" 2>/dev/null)" ] && break
	i=$((i + 1))
	[ $i -lt 50 ] || fail "no free port found"
done

# conf_write SIGNER-BLOCK DEFAULT: the configuration, with that signer.
conf_write()
{
	cat >"$T/signerd.conf" <<EOT
user "_signerd"
chroot "$T/empty"
control socket "$CTL"
keystore "$T/db/keystore.db"
max connections 256
listen on 127.0.0.1 port $PORT tls {
	certificate "$T/pki/server.crt"
	key "$T/pki/server.key"
	client ca "$T/pki/ca.crt"
}
$1
default signer "$2"
${BENCH_CONF:-}
EOT
}

# daemon_start SIGNER [COMMAND...]: start signerd (under the command,
# e.g. valgrind, which runs it in its own process), wait until the
# signer is ready: 10 s, or 120 s under a command.
daemon_start()
{
	s0=$1
	shift
	"$@" "$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo "$PARENT" >>"$T/pids"
	i=0
	wait_max=100
	[ $# -gt 0 ] && wait_max=1200
	while :; do
		kill -0 "$PARENT" 2>/dev/null || fail "signerd exited"
		if "$BIN/signerctl" -s "$CTL" show signers >"$T/signers" \
		    2>/dev/null && [ "$(awk -v s="$s0" \
		    'NR > 1 && $1 == s && $5 == "ready"' "$T/signers" |
		    wc -l)" -eq 1 ]; then
			break
		fi
		i=$((i + 1))
		[ $i -lt $wait_max ] ||
		    fail "signer $s0 not ready within $((wait_max / 10)) s"
		sleep 0.1
	done
	"$BIN/signerctl" -s "$CTL" show status |
	    awk 'NR > 1 && $3 > 0 { print $3 }' >>"$T/pids"
}

# limit: seconds one kmipbench or p11bench may take, 30 s more than
# planned.
limit=$((30 + (WARM + RUNS * (SECS + 2)) * 2))

# bench OP CLIENTS BATCH [OPTION...]: one kmipbench of KRUNS runs.
status=0
KRUNS=$RUNS
bench()
{
	op=$1
	c=$2
	b=$3
	shift 3
	d0=$(daemon_cpu)
	timeout "$limit" "$BENCH" -k "$T/pki" -s 127.0.0.1 -o "$op" -c "$c" \
	    -b "$b" -t "$SECS" -r "$KRUNS" -w "$WARM" ${BENCH_ARGS:-} "$@" \
	    "$PORT" &
	CHILD=$!
	wait "$CHILD" || status=1
	CHILD=
	kill -0 "$PARENT" 2>/dev/null || fail "signerd exited"
	# What the daemon's processes spent per item answered meanwhile.
	echo "$d0 $(daemon_cpu)" | awk -v hz="$(getconf CLK_TCK)" '
	    $NF > $(NF / 2) { h = NF / 2; n = $NF - $h
		printf "  daemon CPU per item, us: engine %.1f frontend %.1f" \
		    " signer %.1f parent %.1f\n", ($(h + 1) - $1) * 1e6 / hz / n,
		    ($(h + 2) - $2) * 1e6 / hz / n,
		    ($(h + 3) - $3) * 1e6 / hz / n,
		    ($(h + 4) - $4) * 1e6 / hz / n }'
}

# daemon_cpu: CPU ticks (user + system) of the engine, the frontend, the
# signers together and the parent, then the items answered so far.
daemon_cpu()
{
	"$BIN/signerctl" -s "$CTL" show status 2>/dev/null | awk -v p="$PARENT" '
	    function ticks(pid,   f, a) {
		if ((getline f < ("/proc/" pid "/stat")) <= 0)
			return 0
		close("/proc/" pid "/stat")
		sub(/^.*\) /, "", f)
		split(f, a, " ")
		return a[12] + a[13]
	    }
	    NR > 1 && $3 > 0 { k = $1 ~ /^signer/ || $1 ~ /^hsm/ ? "signer" : $1
		t[k] += ticks($3) }
	    END { printf "%d %d %d %d", t["engine"], t["frontend"],
		t["signer"], ticks(p) }'
	"$BIN/signerctl" -s "$CTL" show metrics 2>/dev/null |
	    awk '/^signerd_requests_total/ { n += $NF } END { print " " n + 0 }'
}

# p11run OP THREADS LABEL: one p11bench run on the token, into $T/p11.
# p11bench runs as root: the token's files stay the signer's.
p11run()
{
	timeout "$limit" "$P11BENCH" -m "$P11MOD" -k hsm -P "$T/hsm.pin" \
	    -o "$1" -T "$2" -l "$3" -t "$SECS" -r 1 -w "$WARM" >"$T/p11" &
	CHILD=$!
	wait "$CHILD" || status=1
	CHILD=
	chown -R "${SIGNERD_HSM_USER:-_signerd_hsm}" "$T/tokens"
}

# The median line of a kmipbench or p11bench output (stdin): "ops p50
# p99".
result()
{
	awk '/median of/ { for (i = 2; i <= NF; i++) {
		if ($i == "ops/s") r = $(i - 1)
		if ($i == "p50") a = $(i + 1)
		if ($i == "p99") b = $(i + 1)
		if ($i == "CPU") c = $(i + 1)
	} } END { if (r != "") print r, a, b, c == "" ? "-" : c }'
}

# dcpu: the daemon's CPU per item (engine, frontend, signer) that bench
# printed, or nothing.
dcpu()
{
	awk '/daemon CPU per item/ { print $7, $9, $11 }'
}

# csv_row OP SIGNER C B OPS RAW P50 P99: a row of $CSV; OP is
# kmipbench's (sign-p256), split into the operation and the algorithm.
csv_row()
{
	echo "${1%%-*},${1#*-},$2,$3,$4,$5,$6,$7,$8" | awk -F, -v OFS=, \
	    '{ for (i = 1; i <= NF; i++) if ($i == "-") $i = ""; print }' \
	    >>"$CSV"
}

# bench_csv OP C B: bench, shown, and its medians (with the raw
# OpenSSL rate) as a row of the software signer.
bench_csv()
{
	bench "$@" >"$T/kmip"
	cat "$T/kmip"
	set -- "$1" "$2" "$3" $(awk '/median of/ { r = "-"
		for (i = 2; i <= NF; i++) {
			if ($i == "ops/s") k = $(i - 1)
			if ($i == "p50") a = $(i + 1)
			if ($i == "p99") b = $(i + 1)
			if ($i == "thread") { r = $(i + 1); sub("/s;?", "", r) }
		} } END { if (k != "") print k, r, a, b }' "$T/kmip")
	[ $# -eq 7 ] && csv_row "$1" soft "$2" "$3" "$4" "$5" "$6" "$7"
}

# median FILE COLUMN: the median of a column of numbers.
median()
{
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print "-"
		else if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

soft_part()
{
	conf_write "signer \"soft\" openssl {
	kek file \"$T/kek\"
}" soft
	daemon_start soft
	echo "signerd on 127.0.0.1 port $PORT ($(nproc) CPUs), software" \
	    "signer; $RUNS runs of $SECS s after $WARM s of warm-up"
	for op in $OPS; do
		case $op in
		sign-*)
			bench_csv "$op" 1 1
			bench_csv "$op" 4 1
			bench_csv "$op" 4 16
			;;
		create-*)
			# Issue 13's row is c=4 b=16 (group commit).
			bench "$op" 4 1
			bench "$op" 4 16
			;;
		*)
			bench "$op" 4 1
			;;
		esac
	done
	bench get 1 1 -N
	daemon_stop
	# The floor under c=1: a message through 2 and 4 processes and
	# back, no work (a Sign at c=1 makes the trips of p=4).
	if [ -x "$HOPBENCH" ]; then
		"$HOPBENCH" -p 2 -r "$RUNS" | grep -v '^  '
		"$HOPBENCH" -p 4 -r "$RUNS" | grep -v '^  '
	fi
}

# scale_at LABEL: fill the keystore to LABEL objects, start, measure Get,
# Sign P-256 (key $skey) and Locate by Name, and the engine's resident
# memory, into $T/scale.LABEL.
scale_at()
{
	fill=$("$KSFILL" "$T/db/keystore.db" alice "$1" "$FILL_SECS") ||
	    fail "ksfill failed"
	have=${fill% *}
	first=${fill#* }
	[ "$first" -lt "$have" ] || fail "ksfill added nothing to $have objects"
	chown -R --reference="$T/db" "$T/db"
	daemon_start soft
	: >"$T/scale.$1"
	for op in get sign-p256 locate; do
		extra=
		[ "$op" = sign-p256 ] && extra="-i $skey"
		# ksfill names its objects fill-N, N the objects there
		# before it: the middle of this fill's names.
		bench "$op" 4 1 -L "fill-$(((first + have) / 2))" $extra \
		    >"$T/out"
		echo "$op $(result <"$T/out")" >>"$T/scale.$1"
	done
	epid=$("$BIN/signerctl" -s "$CTL" show status |
	    awk '$1 == "engine" { print $3 }')
	echo "rss $(awk '/^VmRSS/ { print $2 }' "/proc/$epid/status")" \
	    "$have $(stat -c %s "$T/db/keystore.db")" >>"$T/scale.$1"
	daemon_stop
}

scale_part()
{
	[ -x "$KSFILL" ] || fail "$KSFILL missing: make bench builds it"
	conf_write "signer \"soft\" openssl {
	kek file \"$T/kek\"
}" soft
	# A keystore of its own: the soft part's Creates would make the
	# small one tens of thousands of objects.
	daemon_stop
	rm -f "$T/db/keystore.db" "$T/db/keystore.db-wal" \
	    "$T/db/keystore.db-shm"
	daemon_start soft
	skey=$("$BENCH" -k "$T/pki" -s 127.0.0.1 -o sign-p256 -S "$PORT") ||
	    fail "no key made"
	skey=$(echo "$skey" | awk '{ print $NF }' | tail -n 1)
	daemon_stop
	echo "scale: keystore at 1000 and $SCALE objects (fill at most" \
	    "$FILL_SECS s), c=4 b=1, medians of $RUNS runs of $SECS s"
	scale_at 1000
	scale_at "$SCALE"
	awk -v small="$T/scale.1000" -v big="$T/scale.$SCALE" '
	    BEGIN {
		while ((getline l < small) > 0) { split(l, f); s[f[1]] = l }
		while ((getline l < big) > 0) { split(l, f); b[f[1]] = l }
		split(s["rss"], rs); split(b["rss"], rb)
		printf "| operation | %d objects | %d objects | ratio |\n",
		    rs[3], rb[3]
		print "|---|---|---|---|"
		n = split("get sign-p256 locate", ops, " ")
		for (i = 1; i <= n; i++) {
			split(s[ops[i]], x); split(b[ops[i]], y)
			printf "| %s ops/s (p50 ms) | %s (%s) | %s (%s) | " \
			    "%.2f |\n", ops[i], x[2], x[3], y[2], y[3],
			    (x[2] > 0 ? y[2] / x[2] : 0)
		}
		printf "| engine RSS (KiB) | %d | %d | %.2f |\n", rs[2],
		    rb[2], (rs[2] > 0 ? rb[2] / rs[2] : 0)
		if (rb[3] > rs[3])
			printf "keystore: %d bytes on disk, %.0f bytes per " \
			    "object\n", rb[4], (rb[4] - rs[4]) / (rb[3] - rs[3])
	    }'
}

# hsm_conf SESSIONS: the pkcs11 signer "hsm" as the default signer.
hsm_conf()
{
	conf_write "signer \"hsm\" pkcs11 {
	module \"$P11MOD\"
	token \"hsm\"
	pin file \"$T/hsm.pin\"
	sessions $1
}" hsm
}

# hsm_key OP: the key OP signs with, made in the token through KMIP the
# first time; its identifier (also its label) in $T/key.OP.
hsm_key()
{
	case $1 in
	create-*|get)	# makes its own keys
		echo - >"$T/key.${KEYPFX:-}$1"
		return ;;
	esac
	if [ ! -s "$T/key.${KEYPFX:-}$1" ]; then
		timeout 120 "$BENCH" -k "$T/pki" -s 127.0.0.1 -o "$1" -S \
		    "$PORT" >"$T/key.${KEYPFX:-}$1" ||
		    fail "$1: no key made in the signer"
	fi
}

# key_opt OP: kmipbench's option naming the key of OP, none for Create.
key_opt()
{
	k=$(cat "$T/key.${KEYPFX:-}$1")
	[ "$k" = - ] || echo "-i $k"
}

ROWFMT="%-13s %2s %3s %8s %7s %7s %8s %7s %7s %6s"
CPUFMT="%-13s %2s %3s %7s %7s %7s %8s %7s %7s %7s"

# One daemon per number of sessions, on the same token and keystore:
# the keys are made once, through KMIP, in the token.  Each kmipbench
# run (c = S connections) is followed by a p11bench run (S threads) on
# the same key, so that both see the same machine; medians of the runs.
# cpurow OP S B: the CPU per signature of this case's runs (medians):
# the raw loop's (p11bench, all its threads), then the client's and each
# daemon process's through signerd, their sum, and raw over the sum (the
# ratio a machine whose cores are all busy allows).
cpurow()
{
	set -- "$1" "$2" "$3" "$(median "$T/runs.raw" 4)" \
	    "$(median "$T/runs.kmip" 4)" "$(median "$T/runs.dcpu" 1)" \
	    "$(median "$T/runs.dcpu" 2)" "$(median "$T/runs.dcpu" 3)"
	awk -v f="$CPUFMT" -v op="$1" -v s="$2" -v b="$3" -v raw="$4" \
	    -v cl="$5" -v e="$6" -v fe="$7" -v sg="$8" 'BEGIN {
		sum = cl + e + fe + sg
		printf f "\n", op, s, b, raw, cl, e, fe, sg, sum,
		    (sum > 0 && raw > 0 ? sprintf("%.2f", raw / sum) : "-") }'
}

hsm_part()
{
	late=
	[ -n "$DELAY" ] && late="; every C_Sign $DELAY ms longer (p11fault)"
	: >"$T/table"
	: >"$T/cputable"
	for s in $SESSIONS; do
		hsm_conf "$s"
		daemon_start hsm
		echo "signerd on 127.0.0.1 port $PORT ($(nproc) CPUs)," \
		    "pkcs11 signer (SoftHSM2) with sessions $s; $RUNS runs" \
		    "of $SECS s after $WARM s of warm-up, each beside raw" \
		    "C_Sign with $s threads$late"
		for op in $HSM_OPS; do
			hsm_key "$op"
			key=$(cat "$T/key.$op")
			for b in $BATCHES; do
				: >"$T/runs.kmip"
				: >"$T/runs.raw"
				: >"$T/runs.dcpu"
				r=0
				while [ $r -lt "$RUNS" ]; do
					r=$((r + 1))
					KRUNS=1
					bench "$op" $((s * CPS)) "$b" -R \
					    -i "$key" >"$T/kmip"
					KRUNS=$RUNS
					p11run "$op" "$s" "$key"
					grep -h -e 'median of' -e ERROR \
					    -e 'daemon CPU' "$T/kmip" "$T/p11" |
					    sed 's/^/  /'
					result <"$T/kmip" >>"$T/runs.kmip"
					result <"$T/p11" >>"$T/runs.raw"
					dcpu <"$T/kmip" >>"$T/runs.dcpu"
				done
				set -- $(median "$T/runs.kmip" 1) \
				    $(median "$T/runs.kmip" 2) \
				    $(median "$T/runs.kmip" 3) \
				    $(median "$T/runs.raw" 1) \
				    $(median "$T/runs.raw" 2) \
				    $(median "$T/runs.raw" 3)
				ratio=$(awk -v k="$1" -v r="$4" 'BEGIN {
				    if (r + 0 > 0) printf "%.2f", k / r
				    else print "-" }')
				line=$(printf "$ROWFMT" "$op" "$s" "$b" "$1" \
				    "$2" "$3" "$4" "$5" "$6" "$ratio")
				echo "$line" >>"$T/table"
				cpurow "$op" "$s" "$b" >>"$T/cputable"
				csv_row "$op" hsm "$s" "$b" "$1" "$4" "$2" "$3"
				echo "$op sessions=$s c=$((s * CPS)) b=$b: $1" \
				    "ops/s p50" \
				    "$2 ms p99 $3 ms; raw C_Sign t=$s $4/s;" \
				    "ratio $ratio (medians of $RUNS)"
			done
		done
		daemon_stop
	done
	echo
	echo "pkcs11 signer (SoftHSM2) through KMIP/TLS/privsep against raw" \
	    "C_Sign, S sessions = $([ "$CPS" -eq 1 ] || echo "$CPS x ")S" \
	    "connections = S threads; medians of $RUNS runs; ms per" \
	    "request (signerd) or per signature (raw)$late"
	printf "$ROWFMT\n" op S b ops/s p50 p99 raw/s p50 p99 ratio
	cat "$T/table"
	echo
	echo "CPU time per signature, us (user and system, medians): raw =" \
	    "p11bench's threads; then, through signerd, the client" \
	    "(kmipbench), the engine, the frontend and the signer, their" \
	    "sum, and raw / sum (what all cores busy would allow)"
	printf "$CPUFMT\n" op S b raw client engine frontend signer sum \
	    raw/sum
	cat "$T/cputable"
}

# prof_fns CALLGRIND_ANNOTATE_OPTION... FILE: "Ir<tab>function" lines.
prof_fns()
{
	callgrind_annotate --auto=no --threshold=100 "$@" 2>/dev/null | awk '
	    /^ *[0-9,]+ \([ 0-9.]+%\)  / && !/PROGRAM TOTALS/ {
		v = $1
		gsub(",", "", v)
		sub(/^ *[0-9,]+ \([ 0-9.]+%\)  /, "")
		print v "\t" $0
	    }'
}

# prof_calls "FUNCTION...": the inclusive instructions per request of the
# PKCS#11 functions, from the signer's $T/fa (N1) and $T/fb (N2).
prof_calls()
{
	awk -F '\t' -v n=$n -v fns="$1" '
	    BEGIN { k = split(fns, f, " ") }
	    { for (i = 1; i <= k; i++) if (index($2, ":" f[i] " ")) {
		    if (NR == FNR) a += $1; else b += $1 } }
	    END { printf "%d\n", (b - a) / n }' "$T/fa" "$T/fb"
}

# prof_top LABEL COUNT FILTER: the COUNT functions of $T/fb whose cost
# grew most from $T/fa, per request, among those whose name holds FILTER.
prof_top()
{
	awk -F '\t' -v n=$n -v l="$1" -v f="$3" '
	    NR == FNR { a[$2] = $1; next }
	    index($2, f) { d = ($1 - a[$2]) / n; if (d >= 1)
		printf "%d\t%s\t%s\n", d, l, $2 }' \
	    "$T/fa" "$T/fb" | sort -t "$(printf '\t')" -k1,1nr | head -"$2"
}

# prof_total FILE: the instructions a callgrind output file counts.
prof_total()
{
	awk '/^totals:/ { print $2; exit }' "$1"
}

# prof_run OP N: signerd under callgrind, N Sign requests of OP from one
# connection; its callgrind files in $T/prof/OP.N.PROCESS.
prof_run()
{
	cg=$T/cg
	rm -rf "$cg" "$T/empty$cg" "$T/db$cg"
	# The processes run as other users; the frontend and the engine
	# write theirs inside their chroots (the keystore's directory for
	# the engine).
	mkdir -p "$cg" "$T/empty$cg" "$T/db$cg" "$T/prof"
	chmod 777 "$cg" "$T/empty$cg" "$T/db$cg"
	STOPWAIT=120
	daemon_start "${PSIGNER:-hsm}" env LD_PRELOAD="$NOSANDBOX" valgrind \
	    --tool=callgrind --vgdb=no --trace-children=yes \
	    --callgrind-out-file="$cg/cg.%p"
	# Made by root at each start, written by its process at exit.
	chmod 666 "$cg"/cg.*
	timeout 900 "$BENCH" -k "$T/pki" -s 127.0.0.1 -o "$1" -c 1 -b 1 \
	    -n "$2" -w 0 -r 1 -R $(key_opt "$1") "$PORT" \
	    >"$T/kmip" 2>&1 || fail "$1: $(cat "$T/kmip")"
	daemon_stop
	STOPWAIT=5
	for f in "$cg"/cg.* "$T/empty$cg"/cg.* "$T/db$cg"/cg.*; do
		[ -s "$f" ] || continue
		case $(awk '/^cmd:/ { print; exit }' "$f") in
		*signerd-frontend*)	p=frontend ;;
		*signerd-hsm*)		p=signer ;;
		*" -P engine"*)		p=engine ;;
		*)			p=parent ;;
		esac
		mv "$f" "$T/prof/$1.$2.$p"
	done
	cg=${cg#/}
	rm -rf "$T/cg" "$T/empty/${cg%%/*}" "$T/db/${cg%%/*}"
}

# cpu_ticks PID: user and system time of a process (all its threads),
# in clock ticks; its name, in parentheses, may hold blanks.
cpu_ticks()
{
	awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$1/stat"
}

# prof_cpu OP: on the running daemon, PROF_CPU_N Sign requests of OP
# (c=1 b=1) between two readings of each process's CPU time; then a
# p11bench run, one thread; a line of $T/cputable.
prof_cpu()
{
	"$BIN/signerctl" -s "$CTL" show status |
	    awk 'NR > 1 && $3 > 0 { print $1, $3 }' >"$T/procs"
	: >"$T/cpu0"
	while read -r kind pid; do
		echo "$kind $(cpu_ticks "$pid")" >>"$T/cpu0"
	done <"$T/procs"
	timeout 600 "$BENCH" -k "$T/pki" -s 127.0.0.1 -o "$1" -c 1 -b 1 \
	    -n "$PROF_CPU_N" -w 0 -r 1 -R $(key_opt "$1") \
	    "$PORT" \
	    >"$T/kmip" 2>&1 || fail "$1: $(cat "$T/kmip")"
	: >"$T/cpu1"
	while read -r kind pid; do
		echo "$kind $(cpu_ticks "$pid")" >>"$T/cpu1"
	done <"$T/procs"
	: >"$T/p11"
	[ "${KEYPFX:-}" = soft. ] || p11run "$1" 1 "$(cat "$T/key.$1")"
	set -- "$1" $(result <"$T/kmip") $(result <"$T/p11")
	awk -v op="$1" -v rate="$2" -v raw="${5:-0}" -v n="$PROF_CPU_N" \
	    -v hz="$(getconf CLK_TCK)" '
	    NR == FNR { u[$1] = $2; s[$1] = $3; next }
	    { du[$1] = ($2 - u[$1]) * 1e6 / hz / n
	      ds[$1] = ($3 - s[$1]) * 1e6 / hz / n }
	    END { printf "%-13s %6.0f", op, (rate > 0 ? 1e6 / rate : 0)
		split("parent engine frontend signer", k, " ")
		for (i = 1; i <= 4; i++)
			printf " %5.0f %4.0f", du[k[i]], ds[k[i]]
		printf " | %6.0f\n", (raw > 0 ? 1e6 / raw : 0) }' \
	    "$T/cpu0" "$T/cpu1" >>"$T/cputable"
}

# soft_conf: the openssl signer "soft" as the default signer.
soft_conf()
{
	conf_write "signer \"soft\" openssl {
	kek file \"$T/kek\"
}" soft
}

# One daemon (sessions 1) to make the keys and measure CPU time, then
# two under callgrind per operation; for each signer of PROF_SIGNERS
# (PSIGNER: hsm, the pkcs11 signer, or soft, the openssl signer; their
# keys in $T/key.OP and $T/key.soft.OP).
profile_part()
{
	: >"$T/proftable"
	: >"$T/proftop"
	: >"$T/profown"
	for PSIGNER in $PROF_SIGNERS; do
		profile_signer
	done
	echo
	echo "Instructions per Sign request (callgrind; the difference of" \
	    "$PROF_N2 and $PROF_N1 requests, c=1 b=1, sessions 1)"
	printf "%-18s %7s %8s %8s %8s | %8s %8s %8s | %9s\n" op parent \
	    engine frontend signer C_Sign C_Find rest "not C_Sign"
	awk '{ printf "%-18s %7d %8d %8d %8d | %8d %8d %8d | %9d\n", $1,
	    $2, $3, $4, $5, $6, $7, $5 - $6 - $7, $2 + $3 + $4 + $5 - $6 }' \
	    "$T/proftable"
	echo "The signer's share: C_Sign = C_SignInit + C_Sign (the token's" \
	    "signature, what p11bench runs; on the openssl signer (soft/)" \
	    "EVP_DigestSignInit_ex + EVP_DigestSign), C_Find =" \
	    "C_FindObjects* (the key's object looked up for each request)," \
	    "rest = the signer outside them; not C_Sign = every process but" \
	    "the signature"
	echo
	echo "Most instructions per Sign request, by process and function" \
	    "(self cost)"
	awk -F '\t' '{ printf "%9d  %-27s %s\n", $1, $2, $3 }' "$T/proftop" |
	    cut -c1-150
	echo
	echo "Most instructions per Sign request in signerd's own functions" \
	    "(inclusive cost)"
	awk -F '\t' '{ printf "%9d  %-27s %s\n", $1, $2, $3 }' "$T/profown" |
	    sed "s| \[$BIN/[^]]*\]||" | cut -c1-150
}

profile_signer()
{
	if [ "$PSIGNER" = soft ]; then
		soft_conf
		KEYPFX=soft.
		what="openssl signer"
	else
		hsm_conf 1
		KEYPFX=
		what="pkcs11 signer (SoftHSM2) sessions 1"
	fi
	daemon_start "$PSIGNER"
	: >"$T/cputable"
	for op in $PROF_OPS; do
		hsm_key "$op"
		prof_cpu "$op"
	done
	daemon_stop
	echo "profile: CPU time per Sign request, us (user, system, from" \
	    "/proc/PID/stat), $what, c=1 b=1, $PROF_CPU_N requests;" \
	    "wall = 1 / (requests per second); raw = 1 / (p11bench C_Sign" \
	    "per second, one thread; none for the openssl signer)"
	printf "%-13s %6s %10s %10s %10s %10s | %6s\n" op wall parent \
	    engine frontend signer raw
	cat "$T/cputable"
	echo
	echo "profile: signerd under callgrind, $what, c=1 b=1, $PROF_N1" \
	    "and $PROF_N2 Sign requests per operation"
	n=$((PROF_N2 - PROF_N1))
	for op in $PROF_OPS; do
		prof_run "$op" "$PROF_N1"
		prof_run "$op" "$PROF_N2"
		label=$op
		[ "$PSIGNER" = soft ] && label=soft/$op
		line=$label
		for p in parent engine frontend signer; do
			a=$T/prof/$op.$PROF_N1.$p
			b=$T/prof/$op.$PROF_N2.$p
			[ -s "$a" ] && [ -s "$b" ] ||
			    fail "$op: no callgrind output of the $p"
			line="$line $(( ($(prof_total "$b") - \
			    $(prof_total "$a")) / n ))"
			[ "$p" = parent ] && continue
			# Per request, by function, most first: self cost
			# of any, inclusive cost of signerd's own.
			prof_fns "$a" >"$T/fa"
			prof_fns "$b" >"$T/fb"
			prof_top "$label $p" 8 "" >>"$T/proftop"
			prof_fns --inclusive=yes "$a" >"$T/fa"
			prof_fns --inclusive=yes "$b" >"$T/fb"
			prof_top "$label $p" 12 "[$BIN/" >>"$T/profown"
		done
		# The signature's work in the signer, as the raw loop makes
		# it, and (token) the search for the key's object.
		prof_fns --inclusive=yes "$T/prof/$op.$PROF_N1.signer" \
		    >"$T/fa"
		prof_fns --inclusive=yes "$T/prof/$op.$PROF_N2.signer" \
		    >"$T/fb"
		if [ "$PSIGNER" = soft ]; then
			sign=$(prof_calls \
			    "EVP_DigestSignInit_ex EVP_DigestSign")
			find=0
		else
			sign=$(prof_calls "C_SignInit C_Sign")
			find=$(prof_calls "C_FindObjectsInit C_FindObjects \
			    C_FindObjectsFinal")
		fi
		echo "$line $sign $find" >>"$T/proftable"
	done
}


echo "op,algorithm,signer,concurrency,batch,ops_per_s,raw_ops_per_s,p50_ms,p99_ms" \
    >"$CSV" || fail "cannot write $CSV"
for p in $PARTS; do
	case $p in
	soft)	soft_part ;;
	hsm)	hsm_part ;;
	profile) profile_part ;;
	scale)	scale_part ;;
	esac
done
if [ "$(wc -l <"$CSV")" -gt 1 ]; then
	echo "bench: results in $CSV"
	if ! command -v gnuplot >/dev/null; then
		echo "bench: no gnuplot (etc/deps.sh installs it): no figure"
	elif algs=$(awk -F, '$1 == "sign" { print $2 }' "$CSV" |
	    sort -u | tr '\n' ' ') && [ -z "$algs" ]; then
		echo "bench: no signatures measured: no figure"
	elif gnuplot -e "csv='$CSV'; png='$PNG'; algs='$algs'; \
	    title='signerd $(date -u +%Y-%m-%d), $(nproc) CPUs'" \
	    "$top/regress/bench/bench.gp"; then
		echo "bench: figure in $PNG"
	else
		echo "bench: gnuplot failed: no figure" >&2
		status=1
	fi
fi
[ $status -eq 0 ] || echo "bench: some runs failed (see above)" >&2
exit $status
