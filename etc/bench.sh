#!/bin/sh
#
# bench.sh [OBJDIR]: `make bench`.  Start signerd on 127.0.0.1 (a free
# port) with a software signer "soft" as the default, in a temporary
# state directory, and run regress/bench/kmipbench against it: Sign
# (RSA-2048, P-256, Ed25519) at c=1 b=1, c=4 b=1 and c=4 b=16, durable
# Create AES-256 and Get at c=4.  Every process started here is stopped
# by its pid and the state directory removed, also on failure.
#
# Environment: BENCH_SECONDS (per run, default 2), BENCH_RUNS (default
# 3), BENCH_WARMUP (default 1), BENCH_OPS (default: all operations),
# BENCH_ARGS (more kmipbench options, e.g. "-p 4"), BENCH_KEEP=1 (keep
# the state directory, with the daemon's log).

set -u
O=${1:-obj}
top=$(cd "$(dirname "$0")/.." && pwd)
case $O in
/*)	;;
*)	O=$top/$O ;;
esac
BIN=$O/bin
BENCH=$O/regress/bench/kmipbench
SECS=${BENCH_SECONDS:-2}
RUNS=${BENCH_RUNS:-3}
WARM=${BENCH_WARMUP:-1}
OPS=${BENCH_OPS:-"sign-rsa2048 sign-p256 sign-ed25519 create-aes256 get"}

for f in "$BIN/signerd" "$BIN/signerctl" "$BIN/signerd-hsm" \
    "$BIN/signerd-frontend" "$BENCH"; do
	if [ ! -x "$f" ]; then
		echo "bench: $f missing: make all first" >&2
		exit 1
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: signerd starts as root (it drops privileges itself)" >&2
	exit 1
fi

T=$(mktemp -d /tmp/signerd-bench.XXXXXX) || exit 1
chmod 755 "$T"
PARENT=
CHILD=
: >"$T/pids"

# Kill what is left of the recorded pids, if they still are ours.
cleanup()
{
	trap - EXIT INT TERM HUP
	if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
		kill -TERM "$CHILD" 2>/dev/null
		wait "$CHILD" 2>/dev/null
	fi
	if [ -n "$PARENT" ] && kill -0 "$PARENT" 2>/dev/null; then
		kill -TERM "$PARENT" 2>/dev/null
		i=0
		while kill -0 "$PARENT" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$PARENT" 2>/dev/null; then
			echo "bench: signerd ignored SIGTERM for 5 s:" \
			    "SIGKILL" >&2
			kill -KILL "$PARENT" 2>/dev/null
		fi
		wait "$PARENT" 2>/dev/null
	fi
	for p in $(sort -u "$T/pids"); do
		if grep -q signerd "/proc/$p/cmdline" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
		fi
	done
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

sh "$top/etc/mkstate.sh" "$T" >"$T/mkstate.log" 2>&1 ||
    fail "mkstate.sh: $(cat "$T/mkstate.log")"
export SOFTHSM2_CONF="$T/softhsm2.conf"
export SIGNERD_LIBEXEC="$BIN"
mkdir -m 755 "$T/empty"
(umask 077; head -c 32 /dev/urandom >"$T/kek")
CTL=$T/ctl.sock

# A port nobody listens on, between 20000 and 40000.
i=0
while :; do
	PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
	[ -z "$(ss -Htln "sport = :$PORT" 2>/dev/null)" ] && break
	i=$((i + 1))
	[ $i -lt 50 ] || fail "no free port found"
done

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
signer "soft" openssl {
	kek file "$T/kek"
}
default signer "soft"
EOT

"$BIN/signerd" -d -f "$T/signerd.conf" >"$T/log" 2>&1 &
PARENT=$!
echo "$PARENT" >>"$T/pids"

i=0
while :; do
	kill -0 "$PARENT" 2>/dev/null || fail "signerd exited"
	if "$BIN/signerctl" -s "$CTL" show signers >"$T/signers" 2>/dev/null &&
	    [ "$(awk 'NR > 1 && $1 == "soft" && $5 == "ready"' \
	    "$T/signers" | wc -l)" -eq 1 ]; then
		break
	fi
	i=$((i + 1))
	[ $i -lt 100 ] || fail "signer not ready within 10 s"
	sleep 0.1
done
"$BIN/signerctl" -s "$CTL" show status |
    awk 'NR > 1 && $3 > 0 { print $3 }' >>"$T/pids"

echo "signerd on 127.0.0.1 port $PORT ($(nproc) CPUs); $RUNS runs of" \
    "$SECS s after $WARM s of warm-up"

# bench OP CLIENTS BATCH: one kmipbench, at most 30 s more than planned.
status=0
bench()
{
	limit=$((30 + (WARM + RUNS * (SECS + 2)) * 2))
	timeout "$limit" "$BENCH" -k "$T/pki" -s 127.0.0.1 -o "$1" -c "$2" \
	    -b "$3" -t "$SECS" -r "$RUNS" -w "$WARM" ${BENCH_ARGS:-} "$PORT" &
	CHILD=$!
	wait "$CHILD" || status=1
	CHILD=
	kill -0 "$PARENT" 2>/dev/null || fail "signerd exited"
}

for op in $OPS; do
	case $op in
	sign-*)
		bench "$op" 1 1
		bench "$op" 4 1
		bench "$op" 4 16
		;;
	*)
		bench "$op" 4 1
		;;
	esac
done
[ $status -eq 0 ] || echo "bench: some runs failed (see above)" >&2
exit $status
