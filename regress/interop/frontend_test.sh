#! /usr/bin/env atf-sh
#
# The frontend under attack: client identities, slow and greedy clients,
# framing, and what it leaves in memory.  Each case starts the real daemon
# on 127.0.0.1 and is bounded in time.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# fe_start [CONFIG LINE...]: one softhsm signer, a read timeout of
# $FE_READ_TIMEOUT (default 3 s), and the extra lines given.
fe_start()
{
	sd_setup s1
	sd_conf s1
	echo "read timeout ${FE_READ_TIMEOUT:-3}" >>"$T/signerd.conf"
	for line in "$@"; do
		echo "$line" >>"$T/signerd.conf"
	done
	sd_start 1
}

fe_py()
{
	$PY "$(atf_get_srcdir)/frontend.py" $PORT "$T/pki" "$@"
}

# fe_expect OUTPUT CASE [ARGS]: frontend.py must print OUTPUT.
fe_expect()
{
	want=$1
	shift
	got=$(fe_py "$@" 2>"$T/py.err")
	[ "$got" = "$want" ] || atf_fail "$*: got \"$got\", wanted" \
	    "\"$want\" $(tail -n 3 "$T/py.err" | tr '\n' ' ')"
}

# fe_cert NAME SUBJECT: a client certificate signed by the test CA.
fe_cert()
{
	(
	cd "$T/pki" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.csr" -subj "$2" -multivalue-rdn \
	    2>/dev/null &&
	echo "extendedKeyUsage=clientAuth" >"$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 1 -out "$1.crt" -extfile "$1.ext" \
	    2>/dev/null
	) || atf_fail "cannot make certificate $1"
}

atf_test_case identity cleanup
identity_head()
{
	atf_set "descr" "a certificate without exactly one usable CN is" \
	    "refused; a good one is served"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 openssl"
}
identity_body()
{
	fe_start
	fe_cert nocn "/O=signerd test/OU=no common name"
	fe_cert twocn "/CN=alice/CN=bob"
	fe_expect "served" serve client
	fe_expect "closed" serve nocn
	grep -q "refused: no subject CN" "$T/log" ||
	    atf_fail "no log for the certificate without CN"
	fe_expect "closed" serve twocn
	grep -q "refused: more than one subject CN" "$T/log" ||
	    atf_fail "no log for the certificate with two CNs"
	fe_expect "closed" serve none
	fe_expect "served" serve bob
	sd_stop
}
identity_cleanup()
{
	sd_cleanup
}

atf_test_case optional_cert cleanup
optional_cert_head()
{
	atf_set "descr" "with client certificate optional, no certificate" \
	    "is unauthenticated, a certificate without CN is still refused"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 openssl"
}
optional_cert_body()
{
	sd_setup s1
	sd_conf s1
	sed -i 's|^\(.*client ca.*\)$|\1\n\tclient certificate optional|' \
	    "$T/signerd.conf"
	sd_start 1
	fe_cert nocn "/O=signerd test"
	fe_expect "closed" serve nocn
	grep -q "refused: no subject CN" "$T/log" ||
	    atf_fail "no log for the certificate without CN"
	fe_expect "served" serve none
	grep -q "client without certificate, unauthenticated" "$T/log" ||
	    atf_fail "no log for the client without certificate"
	sd_stop
}
optional_cert_cleanup()
{
	sd_cleanup
}

atf_test_case slow_hello cleanup
slow_hello_head()
{
	atf_set "descr" "a ClientHello at one byte a second is closed at" \
	    "read timeout, not kept alive by each byte"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
slow_hello_body()
{
	fe_start
	fe_py slowhello >"$T/out" || atf_fail "frontend.py failed"
	t=$(cat "$T/out")
	[ "$t" != open ] && [ "$t" -le 5 ] ||
	    atf_fail "slow handshake open after $t s (read timeout 3)"
	grep -q "no TLS handshake within 3 s" "$T/log" ||
	    atf_fail "no log for the slow handshake"
	sd_stop
}
slow_hello_cleanup()
{
	sd_cleanup
}

atf_test_case slow_pool cleanup
slow_pool_head()
{
	atf_set "descr" "slow handshakes do not keep real clients out"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
slow_pool_body()
{
	FE_READ_TIMEOUT=20 fe_start "max connections 5"
	fe_py slowpool 10 >"$T/out" || atf_fail "frontend.py failed"
	t=$(cat "$T/out")
	[ "$t" != refused ] && awk -v t="$t" 'BEGIN { exit !(t < 2) }' ||
	    atf_fail "real client behind 10 slow handshakes: $t"
	[ "$(sd_pid frontend)" ] || atf_fail "frontend gone"
	sd_stop
}
slow_pool_cleanup()
{
	sd_cleanup
}

atf_test_case framing cleanup
framing_head()
{
	atf_set "descr" "a non-structure is framed with its padding; a" \
	    "huge declared length is reported with its real size"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
framing_body()
{
	fe_start
	# Invalid Message (4) for the Text String, then the Query succeeds.
	fe_expect "4 0" nonstruct
	fe_expect "closed" hugelen
	grep -q "message of 4294967296 bytes exceeds max message" "$T/log" ||
	    atf_fail "wrong size logged: $(grep 'exceeds max' "$T/log")"
	sd_stop
}
framing_cleanup()
{
	sd_cleanup
}

atf_test_case pipeline cleanup
pipeline_head()
{
	atf_set "descr" "clients that pipeline and never read neither grow" \
	    "the frontend nor starve another client"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
pipeline_body()
{
	# Under ASan, freed memory waits in a quarantine (256 MB by default)
	# and would count as growth; other builds ignore this.
	export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"
	fe_start
	fe=$(sd_pid frontend)
	en=$(sd_pid engine)
	rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$fe/status)
	fe_py pipeline 20 10 "$fe,$en" >"$T/out" ||
	    atf_fail "frontend.py failed"
	read hwm worst <"$T/out"
	fehwm=${hwm%%,*}
	echo "frontend VmRSS before ${rss0} kB, VmHWM ${fehwm} kB;" \
	    "engine VmHWM ${hwm#*,} kB; slowest other client ${worst} s"
	# 20 connections, each at most about 200 kB (signerd.conf(5)).
	[ $((fehwm - rss0)) -lt 32768 ] ||
	    atf_fail "frontend grew by $((fehwm - rss0)) kB"
	awk -v t="$worst" 'BEGIN { exit !(t < 2) }' ||
	    atf_fail "other client waited $worst s"
	[ "$(sd_pid frontend)" = "$fe" ] || atf_fail "frontend restarted"
	sd_stop
}
pipeline_cleanup()
{
	sd_cleanup
}

atf_test_case stalled_signer cleanup
stalled_signer_head()
{
	atf_set "descr" "with the signer stopped, clients pipelining Sign" \
	    "requests neither grow the frontend nor the engine past the" \
	    "in-flight budget, and service resumes at once"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
stalled_signer_body()
{
	export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	fe=$(sd_pid frontend)
	en=$(sd_pid engine)
	hsm=$(sd_pid signer soft)
	rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$fe/status)
	ers0=$(awk '/^VmRSS:/ { print $2 }' /proc/$en/status)
	fe_py stalled 10 8 $hsm "$fe,$en" >"$T/out" 2>"$T/py.err" ||
	    atf_fail "frontend.py: $(tail -n 3 "$T/py.err")"
	read hwm took <"$T/out"
	fehwm=${hwm%%,*}
	enhwm=${hwm#*,}
	echo "frontend VmRSS before ${rss0} kB, VmHWM ${fehwm} kB;" \
	    "engine VmRSS before ${ers0} kB, VmHWM ${enhwm} kB;" \
	    "served ${took} s after the signer went on"
	# INFLIGHT_MAX_BYTES (16 MiB) of requests, plus one message of
	# input per connection.
	[ $((fehwm - rss0)) -lt 49152 ] ||
	    atf_fail "frontend grew by $((fehwm - rss0)) kB"
	[ $((enhwm - ers0)) -lt 131072 ] ||
	    atf_fail "engine grew by $((enhwm - ers0)) kB"
	awk -v t="$took" 'BEGIN { exit !(t < 2) }' ||
	    atf_fail "a new client waited $took s once the signer went on"
	sd_stop
}
stalled_signer_cleanup()
{
	sd_cleanup
}

atf_test_case wipe cleanup
wipe_head()
{
	atf_set "descr" "a secret sent to the frontend is not left in its" \
	    "memory once forwarded"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
wipe_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	marker=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	fe_expect "registered" secret $marker
	fe=$(sd_pid frontend)
	$PY "$(atf_get_srcdir)/memscan.py" $fe $marker >"$T/scan" 2>&1
	rc=$?
	[ $rc -eq 0 ] || atf_fail "marker in the frontend ($rc):" \
	    "$(head -n 5 "$T/scan" | tr '\n' ' ')"
	sd_stop
}
wipe_cleanup()
{
	sd_cleanup
}

atf_test_case nodelay cleanup
nodelay_head()
{
	atf_set "descr" "an accepted connection has TCP_NODELAY set and" \
	    "gets no TLS session ticket, so its first answer is not held" \
	    "back by Nagle"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
nodelay_body()
{
	fe_start
	fe=$(sd_pid frontend)
	[ "$fe" ] || atf_fail "no frontend pid"
	fe_expect "nodelay 1 tickets 0" sockopt "$fe"
	sd_stop
}
nodelay_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case identity
	atf_add_test_case optional_cert
	atf_add_test_case slow_hello
	atf_add_test_case slow_pool
	atf_add_test_case framing
	atf_add_test_case pipeline
	atf_add_test_case stalled_signer
	atf_add_test_case wipe
	atf_add_test_case nodelay
}
