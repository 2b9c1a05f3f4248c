#! /usr/bin/env atf-sh
#
# End-to-end tests of the real daemon against real SoftHSM2 tokens, run as
# root as CI does.

. "$(atf_get_srcdir)/lib.sh"

# /proc/PID/status field NAME
proc_field()
{
	awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' \
	    "/proc/$1/status"
}

atf_test_case privsep cleanup
privsep_head()
{
	atf_set "descr" "every child, each of its threads, is unprivileged" \
	    "and sandboxed, the frontend chrooted, signers under a user" \
	    "of their own"
	atf_set "require.user" "root"
}
privsep_body()
{
	sd_setup s1 s2
	sd_conf s1 s2
	sd_start 2
	for kind in frontend engine "signer s1" "signer s2"; do
		pid=$(sd_pid $kind)
		[ -n "$pid" ] || atf_fail "no pid for $kind"
		uid=$(proc_field $pid Uid)
		gid=$(proc_field $pid Gid)
		echo "$kind pid $pid uid $uid gid $gid" \
		    "root $(readlink /proc/$pid/root)" \
		    "seccomp $(proc_field $pid Seccomp)" \
		    "threads $(ls /proc/$pid/task | wc -l)"
		for id in $uid $gid $(proc_field $pid Groups); do
			[ "$id" -ne 0 ] || atf_fail "$kind runs with id 0"
		done
		[ "$(proc_field $pid Seccomp)" = 2 ] ||
		    atf_fail "$kind: not in seccomp filter mode"
		[ "$(proc_field $pid NoNewPrivs)" = 1 ] ||
		    atf_fail "$kind: no_new_privs not set"
		# Every thread (the engine's audit syncer, a pool's workers).
		for t in /proc/$pid/task/*; do
			t=${t#/proc/$pid/task/}
			f=/proc/$pid/task/$t/status
			grep -q "^Seccomp:[[:space:]]*2" $f ||
			    atf_fail "$kind thread $t: no seccomp filter"
			grep -q "^NoNewPrivs:[[:space:]]*1" $f ||
			    atf_fail "$kind thread $t: no_new_privs not set"
			[ "$(awk '$1 == "Uid:" { print $2 }' $f)" = \
			    "$(echo $uid | cut -d' ' -f1)" ] ||
			    atf_fail "$kind thread $t: another uid"
		done
		# Signers have a user of their own: no keystore for them.
		case $kind in
		signer*)	want=_signerd_hsm ;;
		*)		want=_signerd ;;
		esac
		w=$(id -u $want)
		[ "$uid" = "$w $w $w $w" ] ||
		    atf_fail "$kind: not running as $want"
		w=$(id -g $want)
		[ "$gid" = "$w $w $w $w" ] ||
		    atf_fail "$kind: not running with the group of $want"
	done
	[ "$(readlink /proc/$(sd_pid frontend)/root)" = "$T/empty" ] ||
	    atf_fail "frontend not chrooted to $T/empty"
	[ "$(readlink /proc/$(sd_pid engine)/root)" = "$T/db" ] ||
	    atf_fail "engine not chrooted to the keystore directory"
	atf_check -o match:"^-rw------- .* _signerd " ls -l "$T/db/keystore.db"
	[ "$(proc_field $PARENT Uid | awk '{ print $1 }')" = 0 ] ||
	    atf_fail "the parent should stay root"
	sd_stop
}
privsep_cleanup()
{
	sd_cleanup
}

atf_test_case keystore_private cleanup
keystore_private_head()
{
	atf_set "descr" "a signer child's uid and gid cannot read the" \
	    "keystore nor signal the engine"
	atf_set "require.user" "root"
	atf_set "require.progs" "setpriv"
}
keystore_private_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	for s in s1 soft; do
		pid=$(sd_pid signer $s)
		uid=$(proc_field $pid Uid | awk '{ print $1 }')
		gid=$(proc_field $pid Gid | awk '{ print $1 }')
		echo "signer $s pid $pid uid $uid gid $gid"
		for f in "$T/db/keystore.db" "$T/db"; do
			if setpriv --reuid=$uid --regid=$gid --clear-groups \
			    cat "$f" >/dev/null 2>&1 ||
			    setpriv --reuid=$uid --regid=$gid --clear-groups \
			    ls "$f" >/dev/null 2>&1; then
				atf_fail "signer $s (uid $uid) can read $f"
			fi
		done
		if setpriv --reuid=$uid --regid=$gid --clear-groups \
		    kill -0 $(sd_pid engine) 2>/dev/null; then
			atf_fail "signer $s (uid $uid) may signal the engine"
		fi
	done
	# And the engine still works with it.
	atf_check -o match:"^-rw------- .* _signerd " ls -l "$T/db/keystore.db"
	sd_stop
}
keystore_private_cleanup()
{
	sd_cleanup
}

atf_test_case signer_restart cleanup
signer_restart_head()
{
	atf_set "descr" "a killed signer child is back within 2 s and" \
	    "the other signer is untouched"
	atf_set "require.user" "root"
}
signer_restart_body()
{
	sd_setup s1 s2
	sd_conf s1 s2
	sd_start 2
	old=$(sd_pid signer s1)
	other=$(sd_pid signer s2)
	kill -9 "$old"
	i=0
	while [ $i -lt 20 ]; do
		new=$(sd_field s1 3)
		if [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$old" ] &&
		    [ "$(sd_field s1 5)" = ready ]; then
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	[ $i -lt 20 ] || atf_fail "s1 not serving again within 2 s"
	sd_record_pids
	[ "$(sd_field s1 6)" = 1 ] || atf_fail "s1 should show 1 restart"
	[ "$(sd_field s2 3)" = "$other" ] || atf_fail "s2 was restarted"
	[ "$(sd_field s2 6)" = 0 ] || atf_fail "s2 shows restarts"
	grep -q "signer s1 (pid $old) terminated by signal 9" "$T/log" ||
	    atf_fail "the death of s1 was not logged"
	sd_stop
}
signer_restart_cleanup()
{
	sd_cleanup
}

atf_test_case reload cleanup
reload_head()
{
	atf_set "descr" "SIGHUP and signerctl reload change exactly the" \
	    "signers that changed"
	atf_set "require.user" "root"
}
reload_body()
{
	sd_setup a b c
	sd_conf a b
	sd_start 2
	pid_b=$(sd_pid signer b)
	pid_fe=$(sd_pid frontend)

	# SIGHUP: a removed, c added, b unchanged.
	sd_conf b c
	kill -HUP $PARENT
	sd_wait_signers b c
	[ "$(sd_field b 3)" = "$pid_b" ] || atf_fail "b was restarted"
	[ "$(sd_field c 5)" = ready ] || atf_fail "c not started"
	[ "$(sd_pid frontend)" = "$pid_fe" ] ||
	    atf_fail "frontend restarted though its config did not change"

	# signerctl reload: b changed, c unchanged.
	pid_c=$(sd_pid signer c)
	sed -i '/token "b"/a\	sessions 8' "$T/signerd.conf"
	atf_check -o match:"reloaded" $SIGNERCTL reload
	sd_wait_signers b c
	[ "$(sd_field b 3)" != "$pid_b" ] || atf_fail "changed b kept its pid"
	[ "$(sd_field c 3)" = "$pid_c" ] || atf_fail "c was restarted"

	# A broken configuration is refused and the old one kept.
	echo "this is not a statement" >>"$T/signerd.conf"
	atf_check -s exit:1 -e match:"configuration has errors" \
	    $SIGNERCTL reload
	[ "$(sd_field c 3)" = "$pid_c" ] || atf_fail "c restarted by a bad reload"
	grep -q 'signerd.conf:[0-9]*: syntax error' "$T/log" ||
	    atf_fail "the bad line was not reported"
	sd_stop
}
reload_cleanup()
{
	sd_cleanup
}

atf_test_case signerctl cleanup
signerctl_head()
{
	atf_set "descr" "signerctl commands and who may use them"
	atf_set "require.user" "root"
}
signerctl_body()
{
	sd_setup s1
	sd_conf s1
	sd_start 1
	atf_check -o match:"^KIND +NAME +PID +STATE +RESTARTS +UPTIME" \
	    -o match:"^parent +- +$PARENT +running" \
	    -o match:"^engine +- +[0-9]+ +running +0" \
	    -o match:"^frontend +- +[0-9]+ +running +0" \
	    -o match:"^signer +s1 +[0-9]+ +running +0" $SIGNERCTL show status
	atf_check -o match:"^s1 +pkcs11 +[0-9]+ +running +ready +0 +token \"s1\"" \
	    $SIGNERCTL show signers
	# -j: one JSON document with every process, parsed by a real parser.
	$SIGNERCTL -j show status >json.out || atf_fail "show status -j"
	atf_check -o inline:"engine frontend parent signer:s1:running\n" \
	    /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(p["kind"] + (":%s:%s" % (p["name"], p["state"])
    if p["kind"] == "signer" else "") for p in d["processes"])))' json.out
	atf_check -s exit:1 -e match:"no JSON form" $SIGNERCTL -j destroy x

	old=$(sd_pid signer s1)
	atf_check -o match:"restarting signer \"s1\"" $SIGNERCTL restart signer s1
	sd_wait_ready 1
	[ "$(sd_field s1 3)" != "$old" ] || atf_fail "s1 not restarted"
	[ "$(sd_field s1 6)" = 1 ] || atf_fail "restart not counted"
	atf_check -s exit:1 -e match:"no signer named \"nosuch\"" \
	    $SIGNERCTL restart signer nosuch

	atf_check -o match:"logging verbose" $SIGNERCTL log verbose
	atf_check -o match:"logging brief" $SIGNERCTL log brief
	atf_check -s exit:1 -e match:"usage" $SIGNERCTL show nonsense

	# Neither a user outside the control group nor garbage get in.
	atf_check -s exit:1 -e match:"connect" \
	    runuser -u nobody -- "$BIN/signerctl" -s "$CTL" show status
	timeout 5 /usr/bin/python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(os.urandom(4096))
s.recv(100)' "$CTL" >/dev/null 2>&1
	atf_check -o match:"^engine" $SIGNERCTL show status
	sd_stop
}
signerctl_cleanup()
{
	sd_cleanup
}

atf_test_case control_group cleanup
control_group_head()
{
	atf_set "descr" "members of the control group may use signerctl"
	atf_set "require.user" "root"
}
control_group_body()
{
	sd_setup s1
	sd_conf s1
	getent group signerd-test >/dev/null || groupadd signerd-test
	echo 'control socket "'"$CTL"'" group "signerd-test"' \
	    >>"$T/signerd.conf"
	sed -i '/^control socket "[^"]*"$/d' "$T/signerd.conf"
	sd_start 1
	atf_check -o match:"^srw-rw---- .* root signerd-test" ls -l "$CTL"
	atf_check -o match:"^engine" runuser -u nobody -g signerd-test -- \
	    "$BIN/signerctl" -s "$CTL" show status
	sd_stop
}
control_group_cleanup()
{
	sd_cleanup
}

atf_test_case start_errors cleanup
start_errors_head()
{
	atf_set "descr" "a missing user, module, certificate or a second" \
	    "instance is a clear error at start"
	atf_set "require.user" "root"
}
start_errors_body()
{
	sd_setup s1
	sd_conf s1
	cp "$T/signerd.conf" "$T/good.conf"

	sed 's/^user .*/user "nosuchuser"/' "$T/good.conf" >"$T/signerd.conf"
	atf_check -s exit:1 -e match:'signerd.conf:1: .*user "?nosuchuser"? does not exist' \
	    timeout 10 "$BIN/signerd" -d -f "$T/signerd.conf"

	sed 's|libsofthsm2.so|nosuch.so|' "$T/good.conf" >"$T/signerd.conf"
	atf_check -s exit:1 -e match:'signerd.conf:[0-9]+: .*nosuch.so' \
	    timeout 10 "$BIN/signerd" -d -f "$T/signerd.conf"

	sed 's|server.crt|nosuch.crt|' "$T/good.conf" >"$T/signerd.conf"
	atf_check -s exit:1 -e match:'nosuch.crt' \
	    timeout 10 "$BIN/signerd" -d -f "$T/signerd.conf"

	# A certificate that does not match its key.
	sed 's|server.key|client.key|' "$T/good.conf" >"$T/signerd.conf"
	atf_check -s exit:1 -e match:'server key.*mismatch' \
	    timeout 10 "$BIN/signerd" -d -f "$T/signerd.conf"

	cp "$T/good.conf" "$T/signerd.conf"
	sd_start 1
	atf_check -s exit:1 -e match:'already running' \
	    timeout 10 "$BIN/signerd" -d -f "$T/signerd.conf"
	sd_ctl show status >/dev/null || atf_fail "first instance hurt"
	sd_stop
	[ ! -e "$CTL" ] || atf_fail "control socket left behind"
}
start_errors_cleanup()
{
	sd_cleanup
}

atf_test_case wrong_pin cleanup
wrong_pin_head()
{
	atf_set "descr" "a wrong PIN locks the signer instead of retrying"
	atf_set "require.user" "root"
}
wrong_pin_body()
{
	sd_setup s1 s2
	sd_conf s1 s2
	echo 0000 >"$T/s2.pin"
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	i=0
	while [ $i -lt 50 ] && [ "$(sd_field s2 5 2>/dev/null)" != locked ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sd_record_pids
	[ "$(sd_field s2 5)" = locked ] || atf_fail "s2 not locked"
	[ "$(sd_field s1 5)" = ready ] || atf_fail "s1 hurt by s2"
	if grep -q "$(cat "$T/s1.pin")" "$T/log"; then
		atf_fail "a PIN reached the log"
	fi
	sd_stop
}
wrong_pin_cleanup()
{
	sd_cleanup
}

atf_test_case kek_file cleanup
kek_file_head()
{
	atf_set "descr" "a raw KEK ending in a newline byte is still 32" \
	    "bytes; a hex KEK may end in a newline"
	atf_set "require.user" "root"
}
kek_file_body()
{
	sd_setup
	sd_conf
	cat >>"$T/signerd.conf" <<EOT
signer "raw" openssl {
	kek file "$T/raw.kek"
}
signer "hex" openssl {
	kek file "$T/hex.kek"
}
EOT
	(umask 077
	head -c 31 /dev/urandom >"$T/raw.kek"
	printf '\n' >>"$T/raw.kek"
	od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$T/hex.kek"
	echo >>"$T/hex.kek")
	sd_start 2
	sd_stop
}
kek_file_cleanup()
{
	sd_cleanup
}

atf_test_case tls cleanup
tls_head()
{
	atf_set "descr" "the frontend speaks TLS 1.3 with client certificates"
	atf_set "require.user" "root"
}
tls_body()
{
	sd_setup s1
	sd_conf s1
	sd_start 1
	sd_tls_ok
	grep -q 'client "alice", TLSv1.3' "$T/log" ||
	    atf_fail "client identity not logged"

	# TLS 1.2 is off by default; a client certificate is required.
	sd_tls -tls1_2 -cert "$T/pki/client.crt" -key "$T/pki/client.key"
	grep -q "^New, TLSv1.2" "$T/tls" && atf_fail "TLS 1.2 accepted"
	# OpenSSL reports a missing client certificate after the handshake.
	printf 'x' | timeout 10 openssl s_client -connect 127.0.0.1:$PORT \
	    -CAfile "$T/pki/ca.crt" -ign_eof >"$T/out" 2>&1 || true
	# The alert may be lost to a reset when the server closes first
	# (the client's 'x' still unread); the daemon's log says why.
	grep -q "certificate required\|alert" "$T/out" ||
	    grep -q "peer did not return a certificate\|no client certificate" \
	    "$T/log" || atf_fail "no client certificate yet accepted"

	# Garbage gets the connection closed; the next client is served.
	head -c 65536 /dev/urandom | timeout 10 openssl s_client -quiet \
	    -connect 127.0.0.1:$PORT -CAfile "$T/pki/ca.crt" \
	    -cert "$T/pki/client.crt" -key "$T/pki/client.key" \
	    >/dev/null 2>&1 || true
	grep -Eq \
	    "not a KMIP message|exceeds max message|invalid message|HTTP 4" \
	    "$T/log" || atf_fail "garbage not refused"
	sd_tls_ok
	[ "$(sd_pid frontend)" ] || atf_fail "frontend gone"
	sd_stop
}
tls_cleanup()
{
	sd_cleanup
}

atf_test_case limits cleanup
limits_head()
{
	atf_set "descr" "tls 1.2 allow gives ECDHE with AEAD only;" \
	    "max connections and idle timeout hold"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
limits_body()
{
	sd_setup s1
	sd_conf s1
	sed -i '/client ca/a\	tls 1.2 allow' "$T/signerd.conf"
	printf 'max connections 2\nidle timeout 2\n' >>"$T/signerd.conf"
	sd_start 1
	sd_tls -tls1_2 -cert "$T/pki/client.crt" -key "$T/pki/client.key"
	grep -Eq "^New, TLSv1.2, Cipher is ECDHE-[A-Z0-9]+-(AES[0-9]+-GCM|CHACHA20-POLY1305)" \
	    "$T/tls" || atf_fail "TLS 1.2 not with ECDHE and AEAD"
	sd_tls -tls1_2 -cipher AES128-SHA -cert "$T/pki/client.crt" \
	    -key "$T/pki/client.key"
	grep -q "^New, TLSv1.2" "$T/tls" && atf_fail "a CBC suite was accepted"
	sd_tls_ok
	atf_check -o inline:"third refused\nidle closed after 2 s\n" \
	    /usr/bin/python3 "$(atf_get_srcdir)/limits.py" $PORT "$T/pki"
	grep -q "refused, 2 connections already" "$T/log" ||
	    atf_fail "refusal not logged"
	sd_stop
}
limits_cleanup()
{
	sd_cleanup
}

atf_test_case core_restart cleanup
core_restart_head()
{
	atf_set "descr" "a killed frontend or engine is restarted and" \
	    "relinked; the signers stay"
	atf_set "require.user" "root"
}
core_restart_body()
{
	sd_setup s1
	sd_conf s1
	sd_start 1
	s1=$(sd_pid signer s1)
	fe=$(sd_pid frontend)
	kill -9 "$fe"
	i=0
	while [ $i -lt 30 ]; do
		new=$(sd_pid frontend)
		[ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$fe" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ $i -lt 30 ] || atf_fail "frontend not restarted"
	sd_record_pids
	sd_tls_ok

	en=$(sd_pid engine)
	kill -9 "$en"
	i=0
	while [ $i -lt 30 ]; do
		new=$(sd_pid engine 2>/dev/null)
		[ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$en" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ $i -lt 30 ] || atf_fail "engine not restarted"
	sd_wait_ready 1
	[ "$(sd_field s1 3)" = "$s1" ] || atf_fail "signer restarted"
	grep -q "engine (pid $en) terminated by signal 9" "$T/log" ||
	    atf_fail "engine death not logged"
	sd_stop
}
core_restart_cleanup()
{
	sd_cleanup
}

atf_test_case shutdown cleanup
shutdown_head()
{
	atf_set "descr" "SIGTERM stops every process and removes the socket"
	atf_set "require.user" "root"
}
shutdown_body()
{
	sd_setup s1 s2
	sd_conf s1 s2
	sd_start 2
	pids=$(sd_ctl show status | awk 'NR > 1 { print $3 }')
	sd_stop
	for p in $pids; do
		[ -d /proc/$p ] && atf_fail "pid $p survived SIGTERM"
	done
	[ ! -e "$CTL" ] || atf_fail "control socket left behind"
	grep -q "fatal" "$T/log" && atf_fail "fatal at shutdown, see the log"
	return 0
}
shutdown_cleanup()
{
	sd_cleanup
}

atf_test_case starts cleanup
starts_head()
{
	atf_set "descr" "12 starts and stops: no process dies as it starts" \
	    "(a thread the engine started just before its sandbox was" \
	    "killed by the filter a quarter of the time)"
	atf_set "require.user" "root"
	atf_set "timeout" "300"
}
starts_body()
{
	sd_setup s1
	sd_conf s1
	sd_cycle 12 1 show status
	if grep "terminated by signal" "$T/log"; then
		atf_fail "a process died in 12 starts"
	fi
}
starts_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case privsep
	atf_add_test_case starts
	atf_add_test_case keystore_private
	atf_add_test_case signer_restart
	atf_add_test_case reload
	atf_add_test_case signerctl
	atf_add_test_case control_group
	atf_add_test_case start_errors
	atf_add_test_case wrong_pin
	atf_add_test_case kek_file
	atf_add_test_case tls
	atf_add_test_case limits
	atf_add_test_case core_restart
	atf_add_test_case shutdown
}
