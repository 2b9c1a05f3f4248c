#! /usr/bin/env atf-sh
#
# Faults on purpose (issue 9): the pkcs11 signer "s1" on the fault
# module regress/p11fault/p11fault.so, which forwards to SoftHSM2 and
# crashes, hangs, fails or drops sessions when its control file says
# so, beside the software signer "soft".  The driver is fault.py.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3
FAULT_SO=$(cd "$srcdir/../p11fault" 2>/dev/null && pwd)/p11fault.so

# fault_start [LINE...]: s1 on the fault module with sessions 4 and
# timeout 3, and soft; each LINE goes into s1's block.  s1 is the
# default signer.  The module's control file and call log are
# $T/control and $T/calls, writable by the signer child's user.
fault_start()
{
	[ -f "$FAULT_SO" ] || atf_fail "no $FAULT_SO (make all)"
	sd_setup s1
	sd_conf s1
	sed -i "s|^	module .*|	module \"$FAULT_SO\"|" "$T/signerd.conf"
	extra="	sessions 4\\
	timeout 3"
	for l in "$@"; do
		extra="$extra\\
	$l"
	done
	sed -i "s|^	pin file .*|&\\
$extra|" "$T/signerd.conf"
	sd_conf_soft
	sed -i 's|^default signer "soft"|default signer "s1"|' \
	    "$T/signerd.conf"
	sed -i 's|^	kek file .*|&\
	timeout 3|' "$T/signerd.conf"
	: >"$T/control"
	: >"$T/calls"
	chmod 666 "$T/control" "$T/calls"
	export P11FAULT_CONTROL="$T/control" P11FAULT_LOG="$T/calls"
}

# fault_run MODE: fault.py, bounded, must print ok.
fault_run()
{
	timeout 120 $PY "$(atf_get_srcdir)/fault.py" $PORT "$T/pki" \
	    "$SIGNERCTL" "$T/signerd.conf" "$T" "$1" >"$T/out" 2>"$T/err"
	rc=$?
	cat "$T/out"
	grep -v "^Config file" "$T/err" >&2
	sd_record_pids
	[ $rc -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "fault.py $1: $(grep FAIL "$T/out" | tr '\n' ' ')" \
	    "(status $rc)"
}

# fault_calls FUNCTION: how many times the module saw it called.
fault_calls()
{
	awk -v f="$1" '$2 == f' "$T/calls" | wc -l
}

# fault_objects: how many key objects pkcs11-tool finds in token s1.
# fault_objects: the key objects in s1's token, but for the signer's
# identity pair (signerd-identity), which every token holds.
fault_objects()
{
	timeout 60 pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so \
	    --token-label s1 --login --pin "$(cat "$T/s1.pin")" \
	    --list-objects 2>/dev/null | awk '
	    /Key Object/ { n += k; k = 1 }
	    /label:/ && $2 == "signerd-identity" { k = 0 }
	    END { print n + k }'
}

atf_test_case crash cleanup
crash_head()
{
	atf_set "descr" "abort() inside C_Sign during a stream of Sign" \
	    "requests from four clients: each gets a signature that" \
	    "verifies or a KMIP error, none waits past the deadline, none" \
	    "gets Item Not Found; the child is restarted once and signing" \
	    "resumes within 2 s"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
crash_body()
{
	fault_start
	sd_start 2
	fault_run crash
	grep -q "signer s1 (pid [0-9]*) terminated by signal 6" "$T/log" ||
	    atf_fail "no crash of s1 in the log"
	sd_stop
}
crash_cleanup()
{
	sd_cleanup
}

atf_test_case hang cleanup
hang_head()
{
	atf_set "descr" "C_Sign hangs: the deadline answers the waiting" \
	    "Sign, the child is restarted, the other signer is not delayed"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
hang_body()
{
	fault_start
	sd_start 2
	fault_run hang
	grep -q "signer s1 .*missed the engine's deadline" "$T/log" ||
	    atf_fail "no deadline kill of s1 in the log"
	sd_stop
}
hang_cleanup()
{
	sd_cleanup
}

atf_test_case dead cleanup
dead_head()
{
	atf_set "descr" "a session the token closed (one, then all and the" \
	    "login with them): reopened and logged in again, the Sign" \
	    "retried on it, no error and no child restart"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 pkcs11-tool"
	atf_set "timeout" "120"
}
dead_body()
{
	fault_start
	sd_start 2
	fault_run dead
	[ "$(grep -c "session [0-9]* lost" "$T/log")" -eq 2 ] ||
	    atf_fail "not two lost sessions logged: $(grep lost "$T/log")"
	# The token holds what it held: one key pair, both halves.
	[ "$(fault_objects)" -eq 2 ] ||
	    atf_fail "$(fault_objects) key objects in the token, wanted 2"
	sd_stop
}
dead_cleanup()
{
	sd_cleanup
}

atf_test_case keepalive cleanup
keepalive_head()
{
	atf_set "descr" "keepalive 1: sessions that died while the signer" \
	    "was idle are found and reopened before the next Sign"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
keepalive_body()
{
	fault_start "keepalive 1"
	sd_start 2
	fault_run keepalive
	grep -q "session [0-9]* found dead" "$T/log" ||
	    atf_fail "the keep-alive found no dead session"
	grep -q "session [0-9]* lost" "$T/log" &&
	    atf_fail "a request met a dead session: $(grep lost "$T/log")"
	sd_stop
}
keepalive_cleanup()
{
	sd_cleanup
}

atf_test_case reinit cleanup
reinit_head()
{
	atf_set "descr" "a module whose sessions cannot be reopened until" \
	    "C_Finalize (a YubiHSM's after idling): C_Finalize and" \
	    "C_Initialize, the Sign succeeds, no child restart; if the" \
	    "module does not come back, the child is restarted"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
reinit_body()
{
	fault_start
	sd_start 2
	fault_run reinit
	grep -q "finalising and initialising the module again" "$T/log" ||
	    atf_fail "no module restart in the log"
	grep -q "the module did not recover" "$T/log" ||
	    atf_fail "no 'did not recover' in the log"
	sd_stop
}
reinit_cleanup()
{
	sd_cleanup
}

atf_test_case unsure cleanup
unsure_head()
{
	atf_set "descr" "a key generation whose session died is not retried" \
	    "blindly: the error says it may or may not have happened"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 pkcs11-tool"
	atf_set "timeout" "120"
}
unsure_body()
{
	fault_start
	sd_start 2
	# The signer made its identity pair at its first start.
	made=$(fault_calls C_GenerateKeyPair)
	fault_run unsure
	[ "$(($(fault_calls C_GenerateKeyPair) - made))" -eq 3 ] ||
	    atf_fail "$(($(fault_calls C_GenerateKeyPair) - made))" \
	    "C_GenerateKeyPair, wanted 3 (one before, the failed one, one" \
	    "after)"
	# Two pairs in the token, nothing of the failed one.
	[ "$(fault_objects)" -eq 4 ] ||
	    atf_fail "$(fault_objects) key objects in the token, wanted 4"
	sd_stop
}
unsure_cleanup()
{
	sd_cleanup
}

atf_test_case slowgen cleanup
slowgen_head()
{
	atf_set "descr" "a key generation that takes longer than the" \
	    "signer's timeout is waited for (failed before: General" \
	    "Failure and a restart after the timeout, RSA-4096 on a busy" \
	    "host)"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
slowgen_body()
{
	fault_start
	sd_start 2
	fault_run slowgen
	! grep -q "missed the engine's deadline" "$T/log" ||
	    atf_fail "s1 was killed for its deadline"
	sd_stop
}
slowgen_cleanup()
{
	sd_cleanup
}

atf_test_case pin cleanup
pin_head()
{
	atf_set "descr" "a wrong PIN: exactly one C_Login, s1 locked with" \
	    "the reason (logged once), the daemon and soft up"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
pin_body()
{
	fault_start "keepalive 1"
	echo 000000 >"$T/s1.pin"
	sed -i 's|^default signer "s1"|default signer "soft"|' \
	    "$T/signerd.conf"
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	i=0
	while [ "$(sd_field s1 5 2>/dev/null)" != locked ] ||
	    [ "$(sd_field soft 5 2>/dev/null)" != ready ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || atf_fail "s1 not locked: $(cat "$T/log")"
		sleep 0.1
	done
	sd_record_pids
	pid=$(sd_pid signer s1)
	# Status requests, keep-alive rounds and reloads: no second try.
	for n in 1 2 3; do
		sd_ctl show signers >/dev/null
		sleep 1
	done
	sd_ctl reload >/dev/null
	sleep 1
	[ "$(fault_calls C_Login)" -eq 1 ] ||
	    atf_fail "$(fault_calls C_Login) C_Login calls, wanted 1"
	sd_ctl show signers | grep "^s1 .*locked.*CKR_PIN_INCORRECT" ||
	    atf_fail "s1 not shown locked with the reason:" \
	    "$(sd_ctl show signers)"
	[ "$(sd_pid signer s1)" = "$pid" ] || atf_fail "s1 was restarted"
	[ "$(grep -c "locked: .*CKR_PIN_INCORRECT" "$T/log")" -eq 1 ] ||
	    atf_fail "the lock not logged once: $(grep locked "$T/log")"
	kill -0 $PARENT || atf_fail "signerd is gone"
	# soft signs.
	atf_check -o match:"^ok" -e ignore timeout 60 $PY \
	    "$(atf_get_srcdir)/client_replay.py" $PORT "$T/pki" krill
	sd_stop
}
pin_cleanup()
{
	sd_cleanup
}

atf_test_case login cleanup
login_head()
{
	atf_set "descr" "login auto logs in once (SoftHSM sets" \
	    "CKF_LOGIN_REQUIRED) and signs; login no never calls C_Login," \
	    "and a key that needs a login is refused saying so"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
login_body()
{
	fault_start "login auto"
	sd_start 2
	fault_run login
	[ "$(fault_calls C_Login)" -eq 1 ] ||
	    atf_fail "login auto: $(fault_calls C_Login) C_Login, wanted 1"
	sd_stop
	sd_cleanup
	# login no on a token that wants one: the signer cannot make its
	# identity key (nor any key), and says so in its state, without a
	# C_Login, a restart or a session taken for dead.
	fault_start "login no"
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	i=0
	while [ "$(sd_field s1 5 2>/dev/null)" != error ]; do
		i=$((i + 1))
		[ $i -lt 150 ] || atf_fail "s1 not in error: $(cat "$T/log")"
		sleep 0.1
	done
	sd_record_pids
	$SIGNERCTL show signers | grep "^s1 " | grep -q "wants a login" ||
	    atf_fail "s1 does not say it wants a login:" \
	    "$($SIGNERCTL show signers)"
	[ "$(fault_calls C_Login)" -eq 0 ] ||
	    atf_fail "login no: $(fault_calls C_Login) C_Login, wanted 0"
	grep -q "session [0-9]* lost" "$T/log" &&
	    atf_fail "a session taken for dead: $(grep lost "$T/log")"
	sd_stop
}
login_cleanup()
{
	sd_cleanup
}

atf_test_case hide cleanup
hide_head()
{
	atf_set "descr" "the fault module hides CKM_ECDSA: Sign with an EC" \
	    "key is refused naming the mechanism"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
hide_body()
{
	fault_start
	echo "C_GetMechanismList hide CKM_ECDSA" >"$T/control"
	sd_start 2
	fault_run hide
	sd_stop
}
hide_cleanup()
{
	sd_cleanup
}

atf_test_case check_hidden cleanup
check_hidden_head()
{
	atf_set "descr" "signerctl check fails naming the mechanisms step" \
	    "and CKM_ECDSA on a token that lacks it; the software signer's" \
	    "check passes"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
check_hidden_body()
{
	fault_start
	echo "C_GetMechanismList hide CKM_ECDSA" >"$T/control"
	sd_start 2
	atf_check -s exit:1 -o save:"$T/check" $SIGNERCTL check s1
	grep -Eq "mechanisms +FAIL.*CKM_ECDSA" "$T/check" ||
	    atf_fail "no failed mechanisms step naming CKM_ECDSA:" \
	    "$(cat "$T/check")"
	atf_check -s exit:0 -o match:"passed" $SIGNERCTL check soft
	sd_stop
}
check_hidden_cleanup()
{
	sd_cleanup
}

atf_test_case retries cleanup
retries_head()
{
	atf_set "descr" "a token that refuses sessions at start: the signer" \
	    "retries with backoff; its state change is logged once with the" \
	    "reason, not once per retry, and so is its recovery"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
retries_body()
{
	fault_start
	echo "C_OpenSession rv CKR_DEVICE_ERROR" >"$T/control"
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	# Tries at 0, 1, 3 s (then 7, 15): three starts of the module.
	i=0
	while [ "$(fault_calls C_Initialize)" -lt 3 ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || atf_fail "no three tries: $(cat "$T/log")"
		sleep 0.1
	done
	sd_record_pids
	[ "$(sd_field s1 5)" = error ] ||
	    atf_fail "s1 is $(sd_field s1 5), not in error"
	[ "$(grep -c "error: C_OpenSession: CKR_DEVICE_ERROR" "$T/log")" \
	    -eq 1 ] || atf_fail "not logged once: $(grep error "$T/log")"
	: >"$T/control"
	i=0
	while [ "$(sd_field s1 5)" != ready ]; do
		i=$((i + 1))
		[ $i -lt 150 ] || atf_fail "s1 not ready: $(cat "$T/log")"
		sleep 0.1
	done
	[ "$(grep -c 'token "s1" in slot' "$T/log")" -eq 1 ] ||
	    atf_fail "ready not logged once: $(grep slot "$T/log")"
	sd_stop
}
retries_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case crash
	atf_add_test_case hang
	atf_add_test_case dead
	atf_add_test_case keepalive
	atf_add_test_case reinit
	atf_add_test_case unsure
	atf_add_test_case slowgen
	atf_add_test_case pin
	atf_add_test_case retries
	atf_add_test_case login
	atf_add_test_case hide
	atf_add_test_case check_hidden
}
