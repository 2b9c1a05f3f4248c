#! /usr/bin/env atf-sh
#
# The audit trail (issue 11): one chained record per request item in
# the keystore's directory, with who, from where, what, on which
# object and signer, the result and how long it took; never key
# material or passwords.  signerctl audit verify names the first record
# that was edited, removed or moved, a cut tail, a missing file.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

au_start()
{
	sd_setup
	sd_conf
	sd_conf_soft
	[ $# -gt 0 ] && echo "$1" >>"$T/signerd.conf"
	sd_start 1
	AUDIT=$T/db/audit.log
}

# au_py ARGS...: audit.py, bounded; it must print ok.
au_py()
{
	timeout 120 $PY "$(atf_get_srcdir)/audit.py" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	cat "$T/out"
	[ $rc -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "audit.py $1: $(grep FAIL "$T/out" | tr '\n' ' ')" \
		"$(tail -3 "$T/err" | tr '\n' ' ')(status $rc)"
}

# au_verify_fails WHERE [FILE...]: verify fails, naming WHERE first.
au_verify_fails()
{
	where=$1
	shift
	sd_ctl audit verify "$@" >"$T/verify" 2>&1 &&
	    atf_fail "verify passed: $(cat "$T/verify")"
	cat "$T/verify"
	head -1 "$T/verify" | grep -q "^$where" ||
	    atf_fail "verify did not name $where: $(cat "$T/verify")"
}

# au_otherca: mallory.crt and .key in $T/pki, CN mallory, issued by a
# CA that signerd does not trust.
au_otherca()
{
	(
	cd "$T/pki" || exit 1
	umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout other-ca.key -out other-ca.crt -days 30 \
	    -subj "/CN=another CA" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout mallory.key -out mallory.csr \
	    -subj "/CN=mallory" &&
	echo "extendedKeyUsage=clientAuth" >mallory.ext &&
	openssl x509 -req -in mallory.csr -CA other-ca.crt \
	    -CAkey other-ca.key -CAcreateserial -days 30 -out mallory.crt \
	    -extfile mallory.ext
	) >"$T/otherca.log" 2>&1 || atf_fail "another CA: $(cat "$T/otherca.log")"
}

atf_test_case krill cleanup
krill_head()
{
	atf_set "descr" "each item of a Krill session leaves one record" \
	    "with its identity, peer, operation, objects, signer, result" \
	    "and duration; the chain verifies"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
krill_body()
{
	au_start 'audit { syslog yes }'
	atf_check -o match:"^ok" -e ignore timeout 120 $PY \
	    "$(atf_get_srcdir)/client_replay.py" $PORT "$T/pki" krill
	sd_ctl audit verify >/dev/null
	au_py krill "$AUDIT"
	au_py chain "$AUDIT"
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	atf_check -o match:"^ok: " $SIGNERCTL audit verify "$AUDIT"
	# The log's copy of a record is the record itself.
	line=$(grep -m1 'audit: {.*"identity":"alice","peer":"127.0.0.1:[0-9]*".*"op":"Sign"' \
	    "$T/log" | sed 's/^[^ ]* audit: //')
	[ -n "$line" ] || atf_fail "no Sign record in the log"
	grep -Fqx "$line" "$AUDIT" || atf_fail "the log's copy differs: $line"
	[ "$(grep -c 'audit: {' "$T/log")" -eq "$(wc -l <"$AUDIT")" ] ||
	    atf_fail "not every record is in the log"
	sd_stop
}
krill_cleanup()
{
	sd_cleanup
}

atf_test_case refused cleanup
refused_head()
{
	atf_set "descr" "a refused operation and a message refused whole" \
	    "are recorded with who and why"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
refused_body()
{
	au_start
	au_py refused $PORT "$T/pki" "$AUDIT"
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	sd_stop
}
refused_cleanup()
{
	sd_cleanup
}

atf_test_case secrets cleanup
secrets_head()
{
	atf_set "descr" "no key bytes (hex, base64, raw) after a Get of a" \
	    "symmetric key and a Sign, no Credential password, in the trail"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
secrets_body()
{
	au_start
	au_py secrets $PORT "$T/pki" "$AUDIT"
	sd_stop
}
secrets_cleanup()
{
	sd_cleanup
}

atf_test_case tamper cleanup
tamper_head()
{
	atf_set "descr" "verify names the record edited, the line removed," \
	    "the lines swapped, a cut or replaced tail of the live file"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
tamper_body()
{
	au_start
	au_py ops $PORT "$T/pki" 4
	cp "$AUDIT" "$T/copy"
	atf_check -o match:"^ok: 1[34] records" $SIGNERCTL audit verify \
	    "$T/copy"
	# Line 5 is a request of alice's.
	au_py tamper edit "$T/copy" "$T/edit" 5
	au_verify_fails "$T/edit:5: record 5 was changed" "$T/edit"
	au_py tamper delete "$T/copy" "$T/delete" 5
	au_verify_fails "$T/delete:5: record 6 where record 5" "$T/delete"
	au_py tamper swap "$T/copy" "$T/swap" 5
	au_verify_fails "$T/swap:5: record 6 where record 5" "$T/swap"
	# The live file: its last record changed, then cut off.
	n=$(wc -l <"$AUDIT")
	sed -i '$ s/"identity":"alice"/"identity":"mallory"/' "$AUDIT"
	au_verify_fails "$AUDIT:$n: record $n is not the one the engine"
	sed -i '$ d' "$AUDIT"
	n=$((n - 1))
	au_verify_fails "$AUDIT:$n: the trail ends at record $n;"
	sd_stop
}
tamper_cleanup()
{
	sd_cleanup
}

atf_test_case rotate cleanup
rotate_head()
{
	atf_set "descr" "rotation by size keeps the chain across files," \
	    "keeps the newest; a missing file between two is named"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
rotate_body()
{
	au_start 'audit { rotate 4K keep 3 }'
	au_py ops $PORT "$T/pki" 30
	ls "$T/db" | grep "^audit.log.[0-9]*$" | sort -t. -k3 -n >"$T/rotated"
	cat "$T/rotated"
	[ "$(wc -l <"$T/rotated")" -eq 3 ] ||
	    atf_fail "$(wc -l <"$T/rotated") rotated files kept, not 3"
	last=$(tail -1 "$T/rotated")
	head -1 "$AUDIT" |
	    grep -q "\"event\":\"rotate\",.*\"prev_file\":\"$last\"" ||
	    atf_fail "the first record does not name $last: $(head -1 "$AUDIT")"
	atf_check -o match:"^ok: .* in 4 files" $SIGNERCTL audit verify
	set -- $(sed "s|^|$T/db/|" "$T/rotated")
	atf_check -o match:"^ok: .* in 4 files" $SIGNERCTL audit verify \
	    "$@" "$AUDIT"
	au_py chain "$@" "$AUDIT"
	au_verify_fails "$3:1: record [0-9]* does not follow record" "$1" \
	    "$3" "$AUDIT"
	# By default the records are not logged.
	grep -q 'audit: {' "$T/log" && atf_fail "logged without syslog yes"
	sd_stop
}
rotate_cleanup()
{
	sd_cleanup
}

atf_test_case kill9 cleanup
kill9_head()
{
	atf_set "descr" "kill -9 of the engine during a stream of creates:" \
	    "every create acknowledged has its record, and the chain goes" \
	    "on after the restart"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
kill9_body()
{
	au_start
	$PY "$(atf_get_srcdir)/durable.py" $PORT "$T/pki" create "$T/acked" \
	    2>"$T/client.log" &
	client=$!
	sleep 2
	en=$(sd_pid engine)
	kill -9 "$en"
	wait $client
	i=0
	while [ $i -lt 50 ]; do
		new=$(sd_pid engine 2>/dev/null)
		[ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$en" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ $i -lt 50 ] || atf_fail "engine not restarted"
	sd_wait_ready 1
	n=$(wc -l <"$T/acked")
	echo "$n key pairs acknowledged before kill -9"
	[ "$n" -gt 5 ] || atf_fail "only $n creates in 2 s"
	au_py ops $PORT "$T/pki" 1
	au_py acked "$T/acked" "$AUDIT"
	[ "$(grep -c '"event":"start"' "$AUDIT")" -eq 2 ] ||
	    atf_fail "not two start records"
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	sd_stop
}
kill9_cleanup()
{
	sd_cleanup
}

atf_test_case powerloss cleanup
powerloss_head()
{
	atf_set "descr" "records of committed turns that the file lost (a" \
	    "power loss, simulated: kill -9 of everything, the tail cut)" \
	    "come back from the keystore, committed with their turn"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 sqlite3"
}
powerloss_body()
{
	au_start
	$PY "$(atf_get_srcdir)/durable.py" $PORT "$T/pki" create "$T/acked" \
	    2>"$T/client.log" &
	client=$!
	sleep 2
	pids=$(sd_ctl show status | awk 'NR > 1 { print $3 }')
	# The engine first: one that outlived the frontend by a moment
	# recorded its requests as not answered, turns that commit nothing.
	kill -9 $(sd_ctl show status | awk '$1 == "engine" { print $3 }')
	kill -9 $pids
	wait $client
	n=$(wc -l <"$T/acked")
	echo "$n key pairs acknowledged before kill -9"
	[ "$n" -gt 5 ] || atf_fail "only $n creates in 2 s"
	# What the page cache held and the disk did not: the records the
	# engine did not know synced yet, which its keystore kept.
	first=$(sqlite3 "$T/db/keystore.db" \
	    "SELECT min(first) FROM audit_pending")
	[ -n "$first" ] || atf_fail "no records pending in the keystore"
	ln=$(grep -n "^{\"seq\":$first," "$AUDIT" | cut -d: -f1)
	[ -n "$ln" ] || atf_fail "record $first not in the file"
	echo "cutting the file from record $first, line $ln of" \
	    "$(wc -l <"$AUDIT")"
	sed -i "$ln,\$ d" "$AUDIT"
	sd_start 1
	grep -q "records restored from the keystore" "$T/log" ||
	    atf_fail "nothing restored"
	au_py acked "$T/acked" "$AUDIT"
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	sd_stop
}
powerloss_cleanup()
{
	sd_cleanup
}

atf_test_case torn cleanup
torn_head()
{
	atf_set "descr" "a last line cut by a crash is ended and named by" \
	    "a torn record, not trusted; without it verify fails"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
torn_body()
{
	au_start
	au_py ops $PORT "$T/pki" 1
	sd_stop
	frag='{"seq":9,"prev":"00","time":"2026-'
	printf '%s' "$frag" >>"$AUDIT"
	n=$(wc -l <"$AUDIT")
	sd_start 1
	au_py ops $PORT "$T/pki" 1
	sum=$(printf '%s' "$frag" | sha256sum | cut -d' ' -f1)
	sed -n "$((n + 2))p" "$AUDIT" | grep -q \
	    "\"event\":\"torn\",\"torn_sha256\":\"$sum\"" ||
	    atf_fail "no torn record after the torn line"
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	sed "$((n + 2))d" "$AUDIT" >"$T/untorn"
	au_verify_fails "$T/untorn:$((n + 1)): not a record" "$T/untorn"
	grep -q "torn line of ${#frag} bytes" "$T/log" ||
	    atf_fail "the torn line is not logged"
	sd_stop
}
torn_cleanup()
{
	sd_cleanup
}

atf_test_case off cleanup
off_head()
{
	atf_set "descr" "audit no: no trail, and verify says so"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
off_body()
{
	au_start 'audit no'
	au_py ops $PORT "$T/pki" 1
	[ -e "$AUDIT" ] && atf_fail "a trail with audit no"
	atf_check -s exit:1 -e match:"audit trail is off" \
	    $SIGNERCTL audit verify
	sd_stop
}
off_cleanup()
{
	sd_cleanup
}

atf_test_case untrusted cleanup
untrusted_head()
{
	atf_set "descr" "a certificate of another CA, refused in the" \
	    "handshake, leaves a refused record: its peer, the CN it" \
	    "claims, its fingerprint and why; the chain verifies"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 openssl"
}
untrusted_body()
{
	au_start
	au_otherca
	au_py untrusted $PORT "$T/pki" "$AUDIT"
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	au_py chain "$AUDIT"
	sd_stop
}
untrusted_cleanup()
{
	sd_cleanup
}

atf_test_case nocert cleanup
nocert_head()
{
	atf_set "descr" "a client without a certificate, where one is" \
	    "required, leaves a refused record"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
nocert_body()
{
	au_start
	au_py nocert $PORT "$T/pki" "$AUDIT"
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	sd_stop
}
nocert_cleanup()
{
	sd_cleanup
}

atf_test_case scan cleanup
scan_head()
{
	atf_set "descr" "a TCP connect and close, or a reset, before any" \
	    "TLS record (a port scan, a health check) leaves no record"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 openssl"
}
scan_body()
{
	au_start
	au_otherca
	au_py scan $PORT "$T/pki" "$AUDIT"
	sd_stop
}
scan_cleanup()
{
	sd_cleanup
}

atf_test_case limit cleanup
limit_head()
{
	atf_set "descr" "a client over max connections and a handshake" \
	    "not done within read timeout leave refused records"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
limit_body()
{
	au_start 'max connections 1
read timeout 2'
	au_py limit $PORT "$T/pki" "$AUDIT"
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	sd_stop
}
limit_cleanup()
{
	sd_cleanup
}

atf_test_case flood cleanup
flood_head()
{
	atf_set "descr" "300 refused handshakes in a few seconds: at most" \
	    "a burst and a rate of refused records and log lines, the" \
	    "others counted; a good client is served during and after;" \
	    "the chain verifies"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 openssl"
	atf_set "timeout" "300"
}
flood_body()
{
	au_start
	au_otherca
	au_py flood $PORT "$T/pki" "$AUDIT" 300
	atf_check -o match:"^ok: " $SIGNERCTL audit verify
	au_py chain "$AUDIT"
	sd_stop
	# The frontend's log line of each refusal keeps the same rate: a
	# line per record, the others counted.
	n=$(grep -c ": closing: " "$T/log")
	r=$(grep -c '"event":"refused","peer"' "$AUDIT")
	[ "$n" -eq "$r" ] ||
	    atf_fail "$n refusals logged one by one, $r recorded"
	grep -q "refused connections beyond 20 a second not logged" \
	    "$T/log" || atf_fail "no count of the refusals not logged"
}
flood_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case krill
	atf_add_test_case refused
	atf_add_test_case secrets
	atf_add_test_case tamper
	atf_add_test_case rotate
	atf_add_test_case kill9
	atf_add_test_case powerloss
	atf_add_test_case torn
	atf_add_test_case off
	atf_add_test_case untrusted
	atf_add_test_case nocert
	atf_add_test_case scan
	atf_add_test_case limit
	atf_add_test_case flood
}
