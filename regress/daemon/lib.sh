# Shared by the end-to-end tests: state, configuration, start and stop of
# a real signerd on 127.0.0.1.  Every pid the daemon reports is recorded in
# $T/pids and killed by sd_cleanup, so no test leaves a process behind.

srcdir=$(atf_get_srcdir)
BIN=$(cd "$srcdir/../../bin" && pwd)
export SIGNERD_LIBEXEC="$BIN"
# LeakSanitizer needs ptrace, which no sandboxed process may use.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# sd_setup TOKEN...: a state directory outside kyua's private work
# directory (the signer children, as _signerd_hsm, must reach the tokens).
sd_setup()
{
	T=$(mktemp -d /tmp/signerd-test.XXXXXX)
	chmod 755 "$T"
	echo "$T" >statedir
	: >"$T/pids"
	sh "$srcdir/../etc/mkstate.sh" "$T" "$@" >"$T/mkstate.log" 2>&1 ||
	    atf_fail "mkstate.sh: $(cat "$T/mkstate.log")"
	export SOFTHSM2_CONF="$T/softhsm2.conf"
	mkdir -m 755 "$T/empty"
	CTL=$T/ctl.sock
	# For atf_check, which runs programs, not shell functions.
	SIGNERCTL="$BIN/signerctl -s $CTL"
	sd_newport
}

sd_newport()
{
	# Below Linux's ephemeral ports (32768 up), which clients' own
	# connections take: a listener there may find its port in use.
	PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
}

# sd_conf SIGNER...: a configuration with one pkcs11 signer per token.
sd_conf()
{
	{
		cat <<EOT
user "_signerd"
chroot "$T/empty"
control socket "$CTL"
keystore "$T/db/keystore.db"
listen on 127.0.0.1 port $PORT tls {
	certificate "$T/pki/server.crt"
	key "$T/pki/server.key"
	client ca "$T/pki/ca.crt"
}
EOT
		for s in "$@"; do
			cat <<EOT
signer "$s" pkcs11 {
	module "/usr/lib/softhsm/libsofthsm2.so"
	token "$s"
	pin file "$T/$s.pin"
}
EOT
		done
	} >"$T/signerd.conf"
}

# sd_conf_soft: add a software signer "soft" with a KEK, the default.
sd_conf_soft()
{
	(umask 077; head -c 32 /dev/urandom >"$T/kek")
	cat >>"$T/signerd.conf" <<EOT
signer "soft" openssl {
	kek file "$T/kek"
}
default signer "soft"
EOT
}

sd_ctl()
{
	"$BIN/signerctl" -s "$CTL" "$@"
}

# sd_start NSIGNERS: start the daemon and wait until NSIGNERS are ready
# (SD_FLAGS: more options, e.g. -v for the debug lines).
sd_start()
{
	"$BIN/signerd" -d ${SD_FLAGS:-} -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	sd_wait_ready "$1"
}

sd_wait_ready()
{
	i=0
	while [ $i -lt 100 ]; do
		if ! kill -0 $PARENT 2>/dev/null; then
			cat "$T/log"
			atf_fail "signerd exited"
		fi
		if sd_ctl show signers >"$T/signers" 2>/dev/null &&
		    [ "$(awk 'NR > 1 && $5 == "ready"' "$T/signers" |
		    wc -l)" -eq "$1" ] &&
		    [ "$(awk 'NR > 1' "$T/signers" | wc -l)" -eq "$1" ]; then
			sd_record_pids
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	cat "$T/log" "$T/signers"
	atf_fail "signerd not ready within 10 s"
}

sd_record_pids()
{
	sd_ctl show status | awk 'NR > 1 && $3 > 0 { print $3 }' >>"$T/pids"
}

# sd_pid KIND [NAME]: the pid signerctl shows for a process.
sd_pid()
{
	sd_ctl show status | awk -v k="$1" -v n="${2:--}" \
	    '$1 == k && $2 == n { print $3 }'
}

# sd_field SIGNER COLUMN: a column of `show signers` for one signer.
sd_field()
{
	sd_ctl show signers | awk -v n="$1" -v c="$2" '$1 == n { print $c }'
}

# sd_cycle ROUNDS NSIGNERS CTL-ARG...: start, one control request, stop,
# ROUNDS times (the log gathers all of them).
sd_cycle()
{
	_rounds=$1
	_signers=$2
	shift 2
	# Not i: sd_start and sd_stop count with it.
	_n=0
	while [ $_n -lt "$_rounds" ]; do
		sd_start "$_signers"
		sd_ctl "$@" >/dev/null
		sd_stop
		_n=$((_n + 1))
	done
}

# sd_stop: SIGTERM, and the parent must be gone within 8 s.
sd_stop()
{
	kill -TERM $PARENT 2>/dev/null
	i=0
	while kill -0 $PARENT 2>/dev/null && [ $i -lt 80 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 $PARENT 2>/dev/null && atf_fail "signerd ignored SIGTERM"
	wait $PARENT 2>/dev/null
	return 0
}

# Kill what is left of the pids recorded, if they still are ours.
sd_cleanup()
{
	[ -f statedir ] || return 0
	T=$(cat statedir)
	if [ -f "$T/pids" ]; then
		for p in $(sort -u "$T/pids"); do
			if grep -q signerd "/proc/$p/cmdline" 2>/dev/null; then
				kill -9 "$p" 2>/dev/null
			fi
		done
	fi
	rm -rf "$T"
}

# sd_tls [openssl s_client options]: a TLS handshake with the frontend;
# its output in $T/tls.
sd_tls()
{
	echo | timeout 10 openssl s_client -connect 127.0.0.1:$PORT \
	    -CAfile "$T/pki/ca.crt" -verify_return_error "$@" >"$T/tls" 2>&1
}

# sd_tls_ok: a TLS 1.3 handshake with the client certificate works.
sd_tls_ok()
{
	sd_tls -cert "$T/pki/client.crt" -key "$T/pki/client.key"
	grep -q "^New, TLSv1.3" "$T/tls" &&
	    grep -q "Verify return code: 0" "$T/tls" ||
	    atf_fail "TLS handshake failed: $(tr '\n' ' ' <"$T/tls")"
}

# sd_wait_signers NAME...: wait until exactly these signers are listed,
# all ready.
sd_wait_signers()
{
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	i=0
	while [ $i -lt 100 ]; do
		sd_ctl show signers >"$T/signers" 2>/dev/null
		have=$(awk 'NR > 1 && $5 == "ready" { print $1 }' \
		    "$T/signers" | sort | tr '\n' ' ')
		all=$(awk 'NR > 1 { print $1 }' "$T/signers" | sort |
		    tr '\n' ' ')
		if [ "$have" = "$want" ] && [ "$all" = "$want" ]; then
			sd_record_pids
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	cat "$T/signers"
	atf_fail "signers not as expected ($want) within 10 s"
}
