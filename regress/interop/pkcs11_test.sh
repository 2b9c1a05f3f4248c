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
	# 8 objects: 3 pairs' 6 halves and 2 AES keys, nothing else.
	[ "$(wc -l <"$T/blocks")" -eq 8 ] ||
	    atf_fail "not 8 objects: $(tr '\n' ' ' <"$T/blocks")"
	p11_run pkcs11_labels.py $PORT "$T/pki" destroy "$T/state" "$T/gone"
	p11_blocks
	while read -r label; do
		grep -qF "label: $label |" "$T/blocks" &&
		    atf_fail "'$label' still in the token:" \
		    "$(tr '\n' ' ' <"$T/blocks")"
	done <"$T/gone"
	[ "$(wc -l <"$T/blocks")" -eq 3 ] ||
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

atf_init_test_cases()
{
	atf_add_test_case ops
	atf_add_test_case params
	atf_add_test_case labels
	atf_add_test_case lacking
	atf_add_test_case replay
}
