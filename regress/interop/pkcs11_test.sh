#! /usr/bin/env atf-sh
#
# Keys generated and used inside a PKCS#11 token (SoftHSM2), through
# KMIP, with the pkcs11 signer "s1" as the default signer (issue 8,
# first increment).

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3
MODULE=/usr/lib/softhsm/libsofthsm2.so

# p11_start [SOFTHSM2_CONF LINE]: a daemon with token s1 as its default
# signer; the optional line goes into the SoftHSM configuration first.
p11_start()
{
	sd_setup s1
	[ $# -gt 0 ] && echo "$1" >>"$T/softhsm2.conf"
	sd_conf s1
	echo 'default signer "s1"' >>"$T/signerd.conf"
	sd_start 1
}

# p11_sessions N: a daemon as p11_start makes, with `sessions N`.
p11_sessions()
{
	sd_setup s1
	sd_conf s1
	sed -i "s|^	pin file .*|&\\
	sessions $1|" "$T/signerd.conf"
	grep -q "^	sessions $1\$" "$T/signerd.conf" ||
	    atf_fail "no sessions line in signerd.conf"
	echo 'default signer "s1"' >>"$T/signerd.conf"
	sd_start 1
}

# p11_run SCRIPT ARGS...: a Python driver, bounded, that must print ok.
p11_run()
{
	script=$1
	shift
	timeout 120 $PY "$(atf_get_srcdir)/$script" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	cat "$T/out"
	grep -v "^Config file" "$T/err" >&2
	[ $rc -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "$script: $(grep FAIL "$T/out" | tr '\n' ' ')(status $rc)"
}

# The token's objects as pkcs11-tool (OpenSC) lists them.  Its warnings
# (CKR_ATTRIBUTE_SENSITIVE for each secret key's value) go to stderr,
# kept apart: interleaved, they would cut lines.
p11_list()
{
	timeout 60 pkcs11-tool --module $MODULE --token-label s1 --login \
	    --pin "$(cat "$T/s1.pin")" --list-objects 2>"$T/p11tool.err"
}

atf_test_case ops cleanup
ops_head()
{
	atf_set "descr" "every key type made in the token through KMIP," \
	    "used there, signatures verified with the public key from Get;" \
	    "pkcs11-tool shows the keys sensitive and never extractable"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 pkcs11-tool"
	atf_set "timeout" "300"
}
ops_body()
{
	p11_start
	p11_run pkcs11_ops.py $PORT "$T/pki" "$T/ids"
	p11_list >"$T/objects"
	# One block per object: "Private Key Object; RSA", "  label: ...".
	awk '/Object;/ { if (b != "") print b; b = $0; next }
	    { b = b " | " $0 } END { if (b != "") print b }' "$T/objects" \
	    >"$T/blocks"
	n=0
	while read -r id kind pub; do
		n=$((n + 1))
		blk=$(grep "label: *$id |" "$T/blocks" | grep -v "Public Key")
		[ -n "$blk" ] || atf_fail "no token object labelled $id ($kind)"
		[ "$(echo "$blk" | wc -l)" -eq 1 ] ||
		    atf_fail "several secret objects labelled $id"
		case $blk in
		*"Access:"*sensitive*"never extractable"*) ;;
		*)	atf_fail "$kind $id is not sensitive and never" \
			    "extractable: $blk" ;;
		esac
		# "extractable" alone (CKA_EXTRACTABLE true) besides "never".
		echo "$blk" | sed 's/never extractable//' | grep -q extractable &&
		    atf_fail "$kind $id is extractable: $blk"
		[ -z "$pub" ] && continue
		# The public half: same CKA_ID, labelled with its own id.
		pid=$(echo "$blk" | sed -n 's/.*| *ID: *\([0-9a-f]*\).*/\1/p')
		[ ${#pid} -eq 32 ] || atf_fail "$kind: CKA_ID '$pid'"
		[ "$(grep -c "ID: *$pid\( \||\|$\)" "$T/blocks")" -eq 2 ] ||
		    atf_fail "$kind: CKA_ID $pid not on exactly two objects"
		grep "ID: *$pid\( \||\|$\)" "$T/blocks" |
		    grep -q "^Public Key Object.*label: *$pub |" ||
		    atf_fail "$kind: no public key object with CKA_ID $pid"
	done <"$T/ids"
	[ $n -ge 13 ] || atf_fail "only $n keys made"
	sd_stop
}
ops_cleanup()
{
	sd_cleanup
}

# p11_blocks: one line per token object, "Private Key Object; RSA |
# label: ... | ID: ...", into $T/blocks.
p11_blocks()
{
	p11_list >"$T/objects"
	awk '/Object;/ { if (b != "") print b; b = $0; next }
	    { b = b " | " $0 } END { if (b != "") print b }' "$T/objects" |
	    sed 's/label:  */label: /' >"$T/blocks"
}

atf_test_case params cleanup
params_head()
{
	atf_set "descr" "KMIP 1.4 key parameters on token keys: Digested" \
	    "Data (RSA PKCS#1 v1.5, PSS, ECDSA), Salt Length, Signature" \
	    "Verify of a digest, OAEP SHA-1 and SHA-256"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "180"
}
params_body()
{
	p11_start
	p11_run prehash.py $PORT "$T/pki" token
	sd_stop
}
params_cleanup()
{
	sd_cleanup
}

atf_test_case labels cleanup
labels_head()
{
	atf_set "descr" "CKA_LABEL is each token key's own Name (or id)" \
	    "and follows Modify/Add/Delete Attribute(Name); Destroy" \
	    "takes the objects out of the token"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 pkcs11-tool"
	atf_set "timeout" "180"
}
labels_body()
{
	p11_start
	p11_run pkcs11_labels.py $PORT "$T/pki" make "$T/state" "$T/expect"
	p11_blocks
	while IFS='|' read -r class label; do
		grep -F "$class" "$T/blocks" | grep -qF "label: $label |" ||
		    atf_fail "no $class labelled '$label':" \
		    "$(tr '\n' ' ' <"$T/blocks")"
	done <"$T/expect"
	# 8 objects: 3 pairs' 6 halves and 2 AES keys, nothing else (but
	# the signer's identity key pair).
	[ "$(grep -vc "label: signerd-identity |" "$T/blocks")" -eq 8 ] ||
	    atf_fail "not 8 objects: $(tr '\n' ' ' <"$T/blocks")"
	p11_run pkcs11_labels.py $PORT "$T/pki" destroy "$T/state" "$T/gone"
	p11_blocks
	while read -r label; do
		grep -qF "label: $label |" "$T/blocks" &&
		    atf_fail "'$label' still in the token:" \
		    "$(tr '\n' ' ' <"$T/blocks")"
	done <"$T/gone"
	[ "$(grep -vc "label: signerd-identity |" "$T/blocks")" -eq 3 ] ||
	    atf_fail "not 3 objects: $(tr '\n' ' ' <"$T/blocks")"
	sd_stop
}
labels_cleanup()
{
	sd_cleanup
}

atf_test_case lacking cleanup
lacking_head()
{
	atf_set "descr" "a mechanism the token does not offer is refused" \
	    "naming it (SoftHSM configured without two)"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
lacking_body()
{
	# "-" makes a list of disabled ones; SoftHSM 2.6.1 skips the first.
	p11_start "slots.mechanisms = -CKM_RSA_X_509,CKM_RSA_X_509,$(:
	    )CKM_SHA384_RSA_PKCS_PSS,CKM_RSA_PKCS_PSS,$(:
	    )CKM_EC_EDWARDS_KEY_PAIR_GEN"
	p11_run pkcs11_mech.py $PORT "$T/pki"
	sd_stop
}
lacking_cleanup()
{
	sd_cleanup
}

atf_test_case replay cleanup
replay_head()
{
	atf_set "descr" "Krill's and Cascade's exact message shapes with" \
	    "a pkcs11 signer as the default signer"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
replay_body()
{
	p11_start
	for who in krill cascade; do
		atf_check -o match:"^ok" -e ignore timeout 60 $PY \
		    "$(atf_get_srcdir)/client_replay.py" $PORT "$T/pki" $who
	done
	sd_stop
}
replay_cleanup()
{
	sd_cleanup
}

# p11_tool ARGS...: pkcs11-tool on token s1; what it makes is given to
# the signer child's user, as mkstate.sh does with the token.
p11_tool()
{
	timeout 60 pkcs11-tool --module $MODULE --token-label s1 --login \
	    --pin "$(cat "$T/s1.pin")" "$@" >>"$T/p11tool.out" 2>&1 ||
	    atf_fail "pkcs11-tool $*: $(tail -3 "$T/p11tool.out")"
	chown -R "${SIGNERD_HSM_USER:-_signerd_hsm}" "$T/tokens"
}

# p11_sorted: the token's objects, one line each, sorted.
p11_sorted()
{
	p11_list | awk '/Object;/ { if (b != "") print b; b = $0; next }
	    { b = b " | " $0 } END { if (b != "") print b }' | sort
}

atf_test_case adopt cleanup
adopt_head()
{
	atf_set "descr" "keys made with pkcs11-tool are adopted by label" \
	    "and by CKA_ID and sign; a duplicate label, a key without" \
	    "CKA_ID and a second adoption are refused; a private-only key" \
	    "signs and Get says why; hsm::<slot>::<key id> ids over KMIP;" \
	    "the token's objects are not changed"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 pkcs11-tool"
	atf_set "timeout" "300"
}
adopt_body()
{
	sd_setup s1
	sd_conf s1
	printf 'admin "alice"\ndefault signer "s1"\n' >>"$T/signerd.conf"
	p11_tool --keypairgen --key-type rsa:2048 --label rk --id 01
	p11_tool --keypairgen --key-type EC:prime256v1 --label ek --id 02
	p11_tool --keypairgen --key-type rsa:2048 --label dup --id 03
	p11_tool --keypairgen --key-type rsa:2048 --label dup --id 04
	p11_tool --keypairgen --key-type EC:prime256v1 --label lk --id 07
	# Private keys whose public object is deleted: the token derives
	# an RSA key's (CKA_MODULUS), not an EC key's.
	p11_tool --keypairgen --key-type EC:prime256v1 --label ponly --id 05
	p11_tool --read-object --type pubkey --id 05 -o "$T/ponly.der"
	p11_tool --delete-object --type pubkey --id 05
	p11_tool --keypairgen --key-type rsa:2048 --label rponly --id 06
	p11_tool --delete-object --type pubkey --id 06
	p11_tool --keypairgen --key-type rsa:2048 --label noid
	p11_sorted >"$T/before"
	grep -q "label: *noid |.*ID:" "$T/before" &&
	    atf_fail "pkcs11-tool gave the key without --id a CKA_ID"
	sd_start 1
	slot=$(sd_ctl show signers |
	    sed -n 's/.*token "s1" in slot \([0-9]*\).*/\1/p')
	[ -n "$slot" ] || atf_fail "no slot in: $(sd_ctl show signers)"

	: >"$T/adopted"
	for a in "rk rsa label rk" "ek ec id 02" "rponly rsa label rponly" \
	    "ponly ec id 05"; do
		set -- $a
		sd_ctl adopt s1 $3 $4 owner alice >"$T/ids" 2>&1 ||
		    atf_fail "adopt $1: $(cat "$T/ids")"
		priv=$(sed -n 's/^private key \([^,]*\).*/\1/p' "$T/ids")
		pub=$(sed -n 's/.*, public key \(.*\)$/\1/p' "$T/ids")
		[ -n "$priv" ] || atf_fail "adopt $1: $(cat "$T/ids")"
		case $1 in
		ponly)	[ -z "$pub" ] ||
			    atf_fail "ponly: a public key from nowhere" ;;
		*)	[ -n "$pub" ] ||
			    atf_fail "$1: no public key: $(cat "$T/ids")" ;;
		esac
		echo "$1 $2 $priv ${pub:--}" >>"$T/adopted"
		[ $1 = rk ] && rk=$priv
	done
	atf_check -s exit:1 -e match:"adopted already, as $rk" \
	    $SIGNERCTL adopt s1 id 01 owner bob
	atf_check -s exit:1 -e match:"2 keys match" \
	    -e match:'label "dup" CKA_ID 03 \(private, RSA\)' \
	    -e match:'label "dup" CKA_ID 04 \(private, RSA\)' \
	    $SIGNERCTL adopt s1 label dup owner alice
	atf_check -s exit:1 -e match:"no CKA_ID" \
	    $SIGNERCTL adopt s1 label noid owner alice
	atf_check -s exit:1 -e match:"no private or secret key" \
	    $SIGNERCTL adopt s1 label nothere owner alice
	atf_check -s exit:1 -e match:"no pkcs11 signer" \
	    $SIGNERCTL adopt s2 label rk owner alice
	# A KMIP Name of the operator's choice.
	atf_check -o match:"^private key .*, public key " \
	    $SIGNERCTL adopt s1 id 03 owner alice name "dup three"

	p11_run pkcs11_adopt.py $PORT "$T/pki" "$slot" "$T/adopted" \
	    "$T/ponly.der"

	# Every object that was there is still there, unchanged; the
	# hsm:: keys are labelled with their key id, both halves.
	p11_sorted >"$T/after"
	comm -23 "$T/before" "$T/after" >"$T/changed"
	[ -s "$T/changed" ] && atf_fail "token objects changed or gone:" \
	    "$(cat "$T/changed")"
	for k in mykey myec; do
		[ "$(grep -c "label: *$k |" "$T/after")" -eq 2 ] ||
		    atf_fail "not two token objects labelled $k"
	done
	grep -q "^Secret Key Object.*label: *myaes |" "$T/after" ||
	    atf_fail "no token AES key labelled myaes"
	# signerctl takes hsm:: ids too.
	atf_check -o match:"destroyed" $SIGNERCTL destroy "hsm::$slot::myaes"
	sd_stop
}
adopt_cleanup()
{
	sd_cleanup
}

# pool_together: the signer sent the answers of the batch of 16 in one
# IMSG_HSM_RESULTS, not one (and one wake-up of the engine) each.
pool_together()
{
	grep -q "^signer/s1\[[0-9]*\]: 16 answers in one message" "$T/log" ||
	    atf_fail "the batch's answers were not sent together:" \
	    "$(grep 'answers in one message' "$T/log" | sort | uniq -c |
	    tr '\n' ' ')"
}

atf_test_case pool cleanup
pool_head()
{
	atf_set "descr" "8 connections sign concurrently and a batch of 16" \
	    "Sign items is answered, on a token with sessions 4: every" \
	    "signature verifies, several requests ran at once, on several" \
	    "sessions (show signers); the batch's answers go back to the" \
	    "engine in one message"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "200"
}
pool_body()
{
	SD_FLAGS=-v p11_sessions 4
	p11_run pkcs11_pool.py $PORT "$T/pki" "$BIN/signerctl" "$CTL" 2
	pool_together
	# A thread per session, and each under the seccomp filter.
	pid=$(sd_pid signer s1)
	[ -n "$pid" ] || atf_fail "no pid for signer s1"
	[ "$(ls /proc/$pid/task | wc -l)" -ge 5 ] ||
	    atf_fail "signer s1 runs $(ls /proc/$pid/task | wc -l) threads"
	for t in /proc/$pid/task/*; do
		grep -q "^Seccomp:[[:space:]]*2" $t/status ||
		    atf_fail "thread ${t##*/} of signer s1 is not sandboxed"
	done
	sd_stop
}
pool_cleanup()
{
	sd_cleanup
}

atf_test_case pool_one cleanup
pool_one_head()
{
	atf_set "descr" "the same load on a token with sessions 1 (a" \
	    "single-threaded token such as a YubiHSM 2)"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "200"
}
pool_one_body()
{
	SD_FLAGS=-v p11_sessions 1
	p11_run pkcs11_pool.py $PORT "$T/pki" "$BIN/signerctl" "$CTL" 1
	pool_together
	sd_stop
}
pool_one_cleanup()
{
	sd_cleanup
}

atf_test_case pool_late cleanup
pool_late_head()
{
	atf_set "descr" "a token that appears after the start: the signer" \
	    "child enters its sandbox, retries, and starts its threads under" \
	    "the filter; they serve the concurrent load"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 softhsm2-util"
	atf_set "timeout" "200"
}
pool_late_body()
{
	sd_setup s1
	(umask 077; od -An -N12 -tx1 /dev/urandom | tr -d ' \n' \
	    >"$T/late.pin")
	sd_conf s1
	sed -i -e 's|^	token "s1"|	token "late"|' \
	    -e "s|^	pin file .*|	pin file \"$T/late.pin\"\\
	sessions 4|" "$T/signerd.conf"
	grep -q "^	sessions 4\$" "$T/signerd.conf" ||
	    atf_fail "no sessions line in signerd.conf"
	echo 'default signer "s1"' >>"$T/signerd.conf"
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	i=0
	while [ "$(sd_field s1 5 2>/dev/null)" != error ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || atf_fail "s1 not in error: $(cat "$T/log")"
		sleep 0.1
	done
	sd_record_pids
	grep -q 'token "late" not found' "$T/log" ||
	    atf_fail "no 'not found' in the log"
	# The child is sandboxed now (after its first start, failed or not).
	pid=$(sd_pid signer s1)
	grep -q "^Seccomp:[[:space:]]*2" /proc/$pid/status ||
	    atf_fail "signer s1 is not sandboxed"
	softhsm2-util --init-token --free --label late \
	    --pin "$(cat "$T/late.pin")" --so-pin 87654321 >/dev/null ||
	    atf_fail "softhsm2-util --init-token"
	chown -R "${SIGNERD_HSM_USER:-_signerd_hsm}" "$T/tokens"
	# Retries come after 1, 2, 4 and 8 s.
	i=0
	while [ "$(sd_field s1 5)" != ready ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || atf_fail "s1 not ready: $(cat "$T/log")"
		sleep 0.1
	done
	[ "$(sd_pid signer s1)" = "$pid" ] || atf_fail "s1 was restarted"
	p11_run pkcs11_pool.py $PORT "$T/pki" "$BIN/signerctl" "$CTL" 2
	[ "$(ls /proc/$pid/task | wc -l)" -ge 5 ] ||
	    atf_fail "signer s1 runs $(ls /proc/$pid/task | wc -l) threads"
	for t in /proc/$pid/task/*; do
		grep -q "^Seccomp:[[:space:]]*2" $t/status ||
		    atf_fail "thread ${t##*/} of signer s1 is not sandboxed"
	done
	sd_stop
}
pool_late_cleanup()
{
	sd_cleanup
}

atf_test_case gone cleanup
gone_head()
{
	atf_set "descr" "a key deleted from the token with pkcs11-tool after" \
	    "signerd signed with it (its handle cached): Item Not Found," \
	    "the signer stays ready"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 pkcs11-tool"
	atf_set "timeout" "120"
}
gone_body()
{
	p11_sessions 4
	p11_run pkcs11_gone.py $PORT "$T/pki" "$T/s1.pin"
	[ "$(sd_field s1 5)" = ready ] || atf_fail "s1 is not ready"
	[ "$(sd_field s1 6)" = 0 ] || atf_fail "s1 was restarted"
	sd_stop
}
gone_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case ops
	atf_add_test_case params
	atf_add_test_case labels
	atf_add_test_case lacking
	atf_add_test_case replay
	atf_add_test_case adopt
	atf_add_test_case pool
	atf_add_test_case pool_one
	atf_add_test_case pool_late
	atf_add_test_case gone
}
