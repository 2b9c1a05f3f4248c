#! /usr/bin/env atf-sh
#
# Signers that operators can trust (issue 9): a signer proves its
# identity at every start, a swapped or re-initialised token is refused
# and its keys left alone, keys follow a renamed signer, tokens are
# chosen by serial number as well as label and slot, show signers detail
# says what a signer is and does, and signerctl check tests one.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3
MODULE=/usr/lib/softhsm/libsofthsm2.so

# id_run ARGS...: identity.py, bounded; it must print ok.
id_run()
{
	timeout 120 $PY "$(atf_get_srcdir)/identity.py" "$@" >"$T/out" \
	    2>"$T/err"
	rc=$?
	cat "$T/out"
	[ $rc -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "identity.py $1: $(grep FAIL "$T/out" | tr '\n' ' ')" \
		"$(tail -3 "$T/err" | tr '\n' ' ')(status $rc)"
}

# id_state SIGNER STATE: wait (10 s at most) until show signers says so.
id_state()
{
	i=0
	while [ $i -lt 100 ]; do
		[ "$(sd_field "$1" 5)" = "$2" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	sd_ctl show signers
	atf_fail "signer $1 not $2 within 10 s"
}

# flat FILE: its lines as one, blanks squeezed (show signers detail and
# check fold long text).
flat()
{
	tr '\n' ' ' <"$1" | tr -s ' '
}

# The objects of token LABEL, as pkcs11-tool lists them.
id_objects()
{
	timeout 60 pkcs11-tool --module $MODULE --token-label "$1" --login \
	    --pin "$(cat "$T/$1.pin")" --list-objects 2>/dev/null
}

# The token directory of SoftHSM that holds token LABEL.
id_tokendir()
{
	for d in "$T"/tokens/*/; do
		grep -q "$1" "$d/token.object" 2>/dev/null && {
			echo "${d%/}"
			return 0
		}
	done
	return 1
}

# The serial number of token LABEL, as softhsm2-util shows it.
id_serial()
{
	softhsm2-util --show-slots 2>/dev/null | awk -v l="$1" '
	    /Serial number:/ { s = $3 }
	    /Label:/ { if ($2 == l) print s }'
}

atf_test_case swapped cleanup
swapped_head()
{
	atf_set "descr" "a token re-initialised with the same label is" \
	    "refused (state wrong-token, advice), nothing reaches it and" \
	    "no key is touched: with the old token back, they all sign"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 pkcs11-tool softhsm2-util"
	atf_set "timeout" "300"
}
swapped_body()
{
	sd_setup s1
	sd_conf s1
	echo 'default signer "s1"' >>"$T/signerd.conf"
	sd_start 1
	id_run make $PORT "$T/pki" 3 "$T/keys"
	id_run sign $PORT "$T/pki" "$T/keys"
	grep -q "signer s1: recorded its identity key" "$T/log" ||
	    atf_fail "no identity recorded: $(cat "$T/log")"
	id_objects s1 >"$T/before"
	nbefore=$(grep -c "^Private Key Object" "$T/before")
	# 3 keys and the identity key.
	[ "$nbefore" -eq 4 ] || atf_fail "$nbefore private keys: \
$(cat "$T/before")"

	# Swap: the token goes aside, a new one takes its label and PIN.
	old=$(id_tokendir s1) || atf_fail "no token directory for s1"
	mv "$old" "$T/s1.saved"
	softhsm2-util --init-token --free --label s1 \
	    --pin "$(cat "$T/s1.pin")" --so-pin "$(cat "$T/s1.so-pin")" \
	    >/dev/null || atf_fail "cannot initialise the new s1"
	chown -R _signerd_hsm "$T/tokens"
	atf_check -o ignore $SIGNERCTL restart signer s1
	id_state s1 wrong-token
	sd_ctl show signers detail >"$T/detail"
	cat "$T/detail"
	grep -q "^signer s1 (pkcs11): wrong-token" "$T/detail" ||
	    atf_fail "no wrong-token in show signers detail"
	flat "$T/detail" | grep -q "point token, serial or slot at the \
right one" || atf_fail "no advice in show signers detail"
	grep -q "keys *6 in the keystore" "$T/detail" ||
	    atf_fail "the keystore's objects of s1 are not 6"
	grep -q "signer s1: not the token of this signer" "$T/log" ||
	    atf_fail "not logged: $(tail -5 "$T/log")"
	id_run refused $PORT "$T/pki" "$T/keys"
	# Nothing was made in the new token, not even an identity key.
	id_objects s1 >"$T/new"
	grep -q "Object;" "$T/new" &&
	    atf_fail "signerd wrote to the new token: $(cat "$T/new")"
	# The check says so too, and fails.
	atf_check -s exit:1 -o match:"identity +FAIL" $SIGNERCTL check s1

	# The right token back: proven, and every key signs.
	new=$(id_tokendir s1) || atf_fail "no token directory for s1"
	rm -rf "$new"
	mv "$T/s1.saved" "$old"
	atf_check -o ignore $SIGNERCTL restart signer s1
	id_state s1 ready
	id_run sign $PORT "$T/pki" "$T/keys"
	id_objects s1 >"$T/after"
	[ "$(grep -c "^Private Key Object" "$T/after")" -eq "$nbefore" ] ||
	    atf_fail "keys changed: $(cat "$T/after")"
	grep -q "signer s1: identity proven" "$T/log" ||
	    atf_fail "not proven: $(tail -5 "$T/log")"
	sd_stop
}
swapped_cleanup()
{
	sd_cleanup
}

atf_test_case renamed cleanup
renamed_head()
{
	atf_set "descr" "a signer renamed in signerd.conf keeps its keys:" \
	    "it proves the old name's identity and the keystore's objects" \
	    "move to the new name"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "300"
}
renamed_body()
{
	sd_setup s1
	sd_conf s1
	echo 'default signer "s1"' >>"$T/signerd.conf"
	sd_start 1
	id_run make $PORT "$T/pki" 2 "$T/keys"
	sd_stop
	sed -i 's/^signer "s1" pkcs11/signer "hsm" pkcs11/;
	    s/^default signer "s1"/default signer "hsm"/' "$T/signerd.conf"
	grep -q '^signer "hsm"' "$T/signerd.conf" || atf_fail "not renamed"
	sd_start 1
	id_run sign $PORT "$T/pki" "$T/keys"
	grep -q "signer hsm proves the identity of signer s1, no longer \
configured: renamed, 4 keystore objects move to hsm" "$T/log" ||
	    atf_fail "rename not logged: $(tail -5 "$T/log")"
	sd_ctl show signers detail >"$T/detail"
	grep -q "keys *4 in the keystore" "$T/detail" ||
	    atf_fail "hsm does not hold 4 objects: $(cat "$T/detail")"
	# The next start finds it recorded under the new name.
	sd_stop
	sd_start 1
	id_run sign $PORT "$T/pki" "$T/keys"
	grep -q "signer hsm: identity proven$" "$T/log" ||
	    atf_fail "not proven: $(tail -5 "$T/log")"
	sd_stop
}
renamed_cleanup()
{
	sd_cleanup
}

atf_test_case serial cleanup
serial_head()
{
	atf_set "descr" "token by serial number, label with blank padding;" \
	    "when none or two tokens match, the error lists those present"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
serial_body()
{
	sd_setup s1 s2
	ser=$(id_serial s2)
	[ -n "$ser" ] || atf_fail "no serial number for s2"
	sd_conf s2
	sed -i "s/^	token \"s2\"/	serial \"$ser\"/" "$T/signerd.conf"
	grep -q "serial \"$ser\"" "$T/signerd.conf" || atf_fail "no serial"
	sd_start 1
	atf_check -o match:"^s2 .* ready .*token \"s2\"" $SIGNERCTL show signers
	sd_ctl show signers detail | grep -q "serial $ser," ||
	    atf_fail "serial not shown: $(sd_ctl show signers detail)"
	sd_stop

	# A label with blanks, as some modules report it: the same token.
	sed -i "s/^	serial \"$ser\"/	token \"s2  \"/" "$T/signerd.conf"
	sd_start 1
	sd_stop

	# Nothing matches: an error that lists both tokens.
	sed -i "s/^	token \"s2  \"/	serial \"0000000000000000\"/" \
	    "$T/signerd.conf"
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	id_state s2 error
	sd_record_pids
	s1ser=$(id_serial s1)
	sd_ctl show signers >"$T/signers"
	cat "$T/signers"
	grep -q "serial \"0000000000000000\" not found; tokens \
present: .*\"s1\" serial $s1ser" "$T/signers" ||
	    atf_fail "s1 not listed: $(cat "$T/signers")"
	grep -q "\"s2\" serial $ser" "$T/signers" ||
	    atf_fail "s2 not listed: $(cat "$T/signers")"
	grep -q "not found; tokens present" "$T/log" ||
	    atf_fail "not logged"
	sd_stop
}
serial_cleanup()
{
	sd_cleanup
}

atf_test_case check cleanup
check_head()
{
	atf_set "descr" "signerctl check passes on two good SoftHSM tokens" \
	    "and a software signer, and fails naming the step on a wrong" \
	    "PIN; exit status 0 only when all passed"
	atf_set "require.user" "root"
	atf_set "require.progs" "pkcs11-tool"
	atf_set "timeout" "120"
}
check_body()
{
	sd_setup s1 s2
	sd_conf s1 s2
	sd_conf_soft
	sd_start 3
	atf_check -s exit:0 -o save:"$T/check" $SIGNERCTL check
	cat "$T/check"
	for step in token login mechanisms generate sign verify destroy \
	    identity; do
		[ "$(grep -c "^  $step  *pass" "$T/check")" -ge 2 ] ||
		    atf_fail "step $step did not pass twice"
	done
	[ "$(grep -c "=> passed" "$T/check")" -eq 3 ] ||
	    atf_fail "not 3 signers passed"
	# Nothing of the test is left in the tokens.
	timeout 60 pkcs11-tool --module $MODULE --token-label s1 --login \
	    --pin "$(cat "$T/s1.pin")" --list-objects 2>/dev/null |
	    grep -q signerd-check && atf_fail "the test key was left behind"
	atf_check -s exit:0 -o match:"=> passed" $SIGNERCTL check s2
	atf_check -s exit:1 -e match:"no signer named \"nosuch\"" \
	    $SIGNERCTL check nosuch
	sd_stop

	# A wrong PIN: s1 is locked, its check fails at login.
	echo 0000 >"$T/s1.pin"
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	id_state s1 locked
	id_state s2 ready
	sd_record_pids
	atf_check -s exit:1 -o save:"$T/check" $SIGNERCTL check s1
	cat "$T/check"
	grep -q "^  login  *FAIL" "$T/check" &&
	    flat "$T/check" | grep -q "login FAIL .*CKR_PIN_INCORRECT" ||
	    atf_fail "login step not failed"
	grep -q "^  token  *pass" "$T/check" || atf_fail "token not found"
	sd_ctl show signers detail >"$T/detail"
	cat "$T/detail"
	flat "$T/detail" | grep -q "advice CKR_PIN_INCORRECT: wrong PIN" ||
	    atf_fail "no advice for the wrong PIN"
	atf_check -s exit:1 -o match:"=> FAILED" -o match:"s2" $SIGNERCTL check
	sd_stop
}
check_cleanup()
{
	sd_cleanup
}

atf_test_case damaged cleanup
damaged_head()
{
	atf_set "descr" "an identity record damaged in the keystore (a" \
	    "blob over its bound) is not sent to the signer, which would" \
	    "end on it: the signer stays up and says the record is damaged"
	atf_set "require.user" "root"
	atf_set "require.progs" "sqlite3"
}
damaged_body()
{
	sd_setup s1
	sd_conf s1
	sd_start 1
	sd_stop
	db=$T/db/keystore.db
	sqlite3 "$db" "UPDATE signer_identities SET blob = zeroblob(5000)" ||
	    atf_fail "sqlite3"
	chown "$(stat -c %u:%g "$db")" "$T"/db/* 2>/dev/null
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	i=0
	until sd_ctl show signers 2>/dev/null | grep -q "damaged"; do
		i=$((i + 1))
		[ $i -lt 100 ] || atf_fail "no damaged identity reported:" \
		    "$(sd_ctl show signers 2>&1; tail -5 "$T/log")"
		sleep 0.1
	done
	sleep 1
	grep -q "bad IMSG_HSM_IDENTITY" "$T/log" &&
	    atf_fail "the signer ended on the record: $(grep bad "$T/log")"
	sd_stop
}
damaged_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case damaged
	atf_add_test_case swapped
	atf_add_test_case renamed
	atf_add_test_case serial
	atf_add_test_case check
}
