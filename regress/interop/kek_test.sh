#! /usr/bin/env atf-sh
#
# The key-encryption key of an openssl signer in a pkcs11 signer's token
# (`wrap with`, issue 8): software keys wrapped and unwrapped by the
# token (SoftHSM2), its check value in the keystore, rewrap of keys made
# under a kek file.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3
MODULE=/usr/lib/softhsm/libsofthsm2.so

# kek_conf [kek] [wrap]: pkcs11 signer "s1" on token s1 and the openssl
# signer "soft", the default, with a kek file, wrap with "s1" or both.
kek_conf()
{
	sd_conf s1
	{
		echo 'signer "soft" openssl {'
		for w in "$@"; do
			case $w in
			kek)	echo "	kek file \"$T/kek\"" ;;
			wrap)	echo '	wrap with "s1"' ;;
			esac
		done
		echo '}'
		echo 'default signer "soft"'
	} >>"$T/signerd.conf"
}

# kek_run MODE [WORDS]: the KMIP driver, bounded; it must print ok.
kek_run()
{
	timeout 120 $PY "$(atf_get_srcdir)/kek_sign.py" $PORT "$T/pki" "$@" \
	    "$T/ids" 2>"$T/err" >"$T/out"
	[ $? -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "kek_sign.py $1: $(cat "$T/out" "$T/err" | tail -5)"
}

kek_fails()
{
	timeout 120 $PY "$(atf_get_srcdir)/kek_sign.py" $PORT "$T/pki" \
	    fails "$T/ids" "$@" 2>"$T/err" >"$T/out"
	[ $? -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "kek_sign.py fails: $(cat "$T/out" "$T/err" | tail -5)"
}

# The first byte of an object's stored blob, in hex.
kek_blob_version()
{
	sqlite3 "$T/db/keystore.db" \
	    "SELECT hex(substr(material, 1, 1)) FROM objects WHERE id = '$1'"
}

# kek_wait_state SIGNER STATE: within 10 s.
kek_wait_state()
{
	i=0
	while [ $i -lt 100 ]; do
		[ "$(sd_field "$1" 5)" = "$2" ] && return 0
		kill -0 $PARENT 2>/dev/null || atf_fail "signerd exited"
		sleep 0.1
		i=$((i + 1))
	done
	sd_ctl show signers
	atf_fail "signer $1 not $2 within 10 s"
}

atf_test_case wrap_with cleanup
wrap_with_head()
{
	atf_set "descr" "an openssl signer wrap with a SoftHSM signer:" \
	    "keys survive a restart, blobs are version 2, the KEK is" \
	    "sensitive and never extractable in the token"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 pkcs11-tool sqlite3"
	atf_set "timeout" "180"
}
wrap_with_body()
{
	sd_setup s1
	kek_conf wrap
	sd_start 2
	sd_ctl show signers | grep "^soft " |
	    grep -q "wrapped by the key in signer s1" ||
	    atf_fail "soft: $(sd_ctl show signers)"
	kek_run create
	read -r priv pub aes <"$T/ids"
	for id in $priv $aes; do
		[ "$(kek_blob_version $id)" = 02 ] ||
		    atf_fail "blob of $id: version $(kek_blob_version $id)"
	done
	[ "$(sqlite3 "$T/db/keystore.db" "SELECT count(*) FROM kek_checks
	    WHERE signer = 'soft' AND source = 'hsm'")" = 1 ] ||
	    atf_fail "no check value recorded"
	sd_stop
	sd_start 2
	kek_run sign
	sd_stop

	# The KEK: one AES key, sensitive, never extractable.
	timeout 60 pkcs11-tool --module $MODULE --token-label s1 --login \
	    --pin "$(cat "$T/s1.pin")" --list-objects 2>/dev/null |
	    awk '/Object;/ { if (b != "") print b; b = $0; next }
	    { b = b " | " $0 } END { if (b != "") print b }' >"$T/blocks"
	blk=$(grep "label: *signerd-kek-soft |" "$T/blocks")
	[ "$(echo "$blk" | grep -c .)" -eq 1 ] ||
	    atf_fail "not one KEK object: $(cat "$T/blocks")"
	case $blk in
	"Secret Key Object; AES"*"Access:"*sensitive*"never extractable"*) ;;
	*)	atf_fail "KEK: $blk" ;;
	esac
	echo "$blk" | sed 's/never extractable//' | grep -q extractable &&
	    atf_fail "KEK is extractable: $blk"
	return 0
}
wrap_with_cleanup()
{
	sd_cleanup
}

atf_test_case other_token cleanup
other_token_head()
{
	atf_set "descr" "the blobs do not unwrap with another token's KEK:" \
	    "the signer refuses at start naming both check values, and" \
	    "without the record an unwrap fails"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 sqlite3"
	atf_set "timeout" "180"
}
other_token_body()
{
	sd_setup s1 s2
	kek_conf wrap
	sd_start 2
	kek_run create
	cv=$(sqlite3 "$T/db/keystore.db" "SELECT value FROM kek_checks
	    WHERE signer = 'soft' AND source = 'hsm'")
	[ ${#cv} -eq 16 ] || atf_fail "check value '$cv'"
	sd_stop

	# Signer "s1" now on token s2: another KEK.
	sed -i "s/token \"s1\"/token \"s2\"/; s|$T/s1.pin|$T/s2.pin|" \
	    "$T/signerd.conf"
	sd_start_nowait
	kek_wait_state soft error
	sd_ctl show signers | grep "^soft " >"$T/soft"
	grep -q "check value" "$T/soft" && grep -q "keystore has $cv" \
	    "$T/soft" || atf_fail "soft: $(cat "$T/soft")"
	grep -q "check value" "$T/log" || atf_fail "nothing logged"
	kek_fails "not ready" "check value"
	sd_stop

	# Forget the records (and s1's identity, or s1 is refused as
	# another token): the signer starts, the blob does not unwrap.
	sqlite3 "$T/db/keystore.db" "DELETE FROM kek_checks;
	    DELETE FROM signer_identities"
	sd_start 2
	kek_fails "does not unwrap"
	sd_stop
}
other_token_cleanup()
{
	sd_cleanup
}

atf_test_case rewrap cleanup
rewrap_head()
{
	atf_set "descr" "signerctl rewrap moves keys made under a kek file" \
	    "under the token's KEK; then the kek file can go; the engine" \
	    "never holds the private key"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 sqlite3"
	atf_set "timeout" "240"
}
rewrap_body()
{
	sd_setup s1
	(umask 077; head -c 32 /dev/urandom >"$T/kek")
	kek_conf kek
	sd_start 2
	kek_run create
	read -r priv pub aes <"$T/ids"
	[ "$(kek_blob_version $priv)" = 01 ] || atf_fail "not version 1"
	# Both keys: version 1 readable, new keys by the token.
	sd_stop
	kek_conf kek wrap
	sd_start 2
	kek_run sign
	sqlite3 "$T/db/keystore.db" "SELECT hex(material) FROM objects
	    WHERE id = '$priv'" >"$T/blob1"
	atf_check -o match:"2 keys rewrapped by the token, 0 were already" \
	    $SIGNERCTL rewrap soft
	for id in $priv $aes; do
		[ "$(kek_blob_version $id)" = 02 ] ||
		    atf_fail "blob of $id: version $(kek_blob_version $id)"
	done
	atf_check -o match:"0 keys rewrapped by the token, 2 were already" \
	    $SIGNERCTL rewrap soft
	atf_check -s exit:1 -e match:"not an openssl signer" \
	    $SIGNERCTL rewrap s1
	kek_run sign
	# The private key, from the version 1 blob, is not in the engine.
	$PY "$(atf_get_srcdir)/kek_plain.py" "$T/kek" "$T/blob1" $priv \
	    >"$T/marker" || atf_fail "kek_plain.py"
	$PY "$(atf_get_srcdir)/memscan.py" "$(sd_pid engine)" \
	    "$(cat "$T/marker")" || atf_fail "the engine holds the key"
	sd_stop

	# Without the kek file: the keys still sign.
	rm "$T/kek"
	kek_conf wrap
	sd_start 2
	kek_run sign
	# Nothing left to move.
	atf_check -o match:"0 keys rewrapped by the token, 2 were already" \
	    $SIGNERCTL rewrap soft
	sd_stop
}
rewrap_cleanup()
{
	sd_cleanup
}

atf_test_case token_down cleanup
token_down_head()
{
	atf_set "descr" "while the pkcs11 signer is down the openssl signer" \
	    "is not ready and says why; it recovers when it is back"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "180"
}
token_down_body()
{
	sd_setup s1
	kek_conf wrap
	sd_start 2
	kek_run create
	# s1 without its PIN: up, but its token not ready.
	mv "$T/s1.pin" "$T/s1.pin.away"
	atf_check -o ignore $SIGNERCTL restart signer s1
	kek_wait_state s1 error
	kek_wait_state soft error
	sd_ctl show signers | grep "^soft " | grep -q 'signer "s1"' ||
	    atf_fail "$(sd_ctl show signers)"
	kek_fails "not ready" 's1'
	# Back: soft follows without being restarted.
	soft=$(sd_pid hsm soft)
	mv "$T/s1.pin.away" "$T/s1.pin"
	atf_check -o ignore $SIGNERCTL restart signer s1
	sd_wait_ready 2
	[ "$(sd_pid hsm soft)" = "$soft" ] || atf_fail "soft was restarted"
	kek_run sign
	sd_stop
}
token_down_cleanup()
{
	sd_cleanup
}

atf_test_case wrong_kek_file cleanup
wrong_kek_file_head()
{
	atf_set "descr" "another kek file than the keys were made under is" \
	    "an error at start naming both check values, not garbage later"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 sqlite3"
	atf_set "timeout" "120"
}
wrong_kek_file_body()
{
	sd_setup
	sd_conf
	sd_conf_soft
	sd_start 1
	kek_run create
	cv=$(sqlite3 "$T/db/keystore.db" "SELECT value FROM kek_checks
	    WHERE signer = 'soft' AND source = 'file'")
	[ ${#cv} -eq 16 ] || atf_fail "check value '$cv'"
	sd_stop
	(umask 077; head -c 32 /dev/urandom >"$T/kek")
	sd_start_nowait
	kek_wait_state soft error
	sd_ctl show signers | grep "^soft " >"$T/soft"
	grep -q "kek file: check value" "$T/soft" &&
	    grep -q "keystore has $cv" "$T/soft" ||
	    atf_fail "soft: $(cat "$T/soft")"
	kek_fails "check value"
	sd_stop
}
wrong_kek_file_cleanup()
{
	sd_cleanup
}

# sd_start without waiting for every signer to be ready.
sd_start_nowait()
{
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	i=0
	while ! sd_ctl show signers >/dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sd_record_pids
}

atf_init_test_cases()
{
	atf_add_test_case wrap_with
	atf_add_test_case other_token
	atf_add_test_case rewrap
	atf_add_test_case token_down
	atf_add_test_case wrong_kek_file
}
