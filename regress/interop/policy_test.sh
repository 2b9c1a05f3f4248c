#! /usr/bin/env atf-sh
#
# Identities, credentials, ownership and grants (issue 11), against the
# real daemon with several client certificates: alice (client.crt) and
# bob from mkstate.sh, and more made here by the test CA.  policy.py does
# one KMIP step per run; signerctl changes grants in between.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# pol CERT ARGS...: one policy.py step, bounded; its output on stdout.
pol()
{
	cert=$1
	shift
	timeout 60 $PY "$(atf_get_srcdir)/policy.py" $PORT "$T/pki" "$cert" \
	    "$@" 2>>"$T/py.err"
}

# expect WHAT WANT CERT ARGS...: policy.py prints a line starting WANT.
expect()
{
	what=$1
	want=$2
	shift 2
	got=$(pol "$@")
	case $got in
	"$want"*)
		;;
	*)
		atf_fail "$what: got \"$got\", wanted \"$want...\"" \
		    "$(tail -2 "$T/py.err" | tr '\n' ' ')"
		;;
	esac
}

# audited IDENTITY OP RESULT [REASON]: the audit trail (on by default,
# the keystore's directory) has a record of IDENTITY's OP ("*": any)
# with that result and reason, and its chain verifies.
audited()
{
	timeout 30 $PY -c 'import json, sys
who, op, res, why = sys.argv[2:6]
n = 0
for ln in open(sys.argv[1]):
    r = json.loads(ln)
    if r.get("event") == "request" and r.get("identity") == who and \
       op in ("*", r.get("op")) and r.get("result") == res and \
       why in ("", r.get("reason", "")):
        n += 1
sys.exit(n == 0)' "$T/db/audit.log" "$1" "$2" "$3" "${4:-}" ||
	    atf_fail "no audit record of $1's $2: $3 ${4:-}"
	$SIGNERCTL audit verify >/dev/null || atf_fail "audit verify"
}

# mkcert NAME CN [CA]: NAME.crt and NAME.key in $T/pki, signed by the
# test CA, or self-made with CA "self" (a CA signerd does not trust).
mkcert()
{
	(
	cd "$T/pki" || exit 1
	umask 077
	if [ "${3:-}" = self ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$1.key" -out "$1.crt" -days 30 \
		    -subj "/CN=$2" 2>/dev/null
	else
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" \
		    2>/dev/null &&
		echo "extendedKeyUsage=clientAuth" >"$1.ext" &&
		openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 30 -out "$1.crt" -extfile "$1.ext" \
		    2>/dev/null
	fi
	chmod 644 "$1.crt"
	) || atf_fail "mkcert $1"
}

# fingerprint NAME: sha256:<hex> of the certificate's DER.
fingerprint()
{
	echo "sha256:$(openssl x509 -in "$T/pki/$1.crt" -outform DER |
	    openssl dgst -sha256 -r | cut -c1-64)"
}

# pol_start: alice, bob, the software signer "soft" (default) and the
# token signer s1; extra configuration from stdin.
pol_start()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	cat >>"$T/signerd.conf"
	sd_start 2
}

# s1key LABEL: the hsm:: id of a key LABEL in token s1.
s1key()
{
	slot=$(sd_ctl show signers |
	    sed -n 's/.*token "s1" in slot \([0-9]*\).*/\1/p')
	[ -n "$slot" ] || atf_fail "no slot in: $(sd_ctl show signers)"
	echo "hsm::$slot::$1"
}

pol_restart()
{
	sd_stop
	sd_start 2
}

# keyowner ID: the OWNER column of show keys for the object.
keyfield()
{
	sd_ctl -j show keys | $PY -c '
import json, sys
for k in json.load(sys.stdin)["keys"]:
    if k["id"] == sys.argv[1]:
        print(k[sys.argv[2]])' "$1" "$2"
}

atf_test_case grants cleanup
grants_head()
{
	atf_set "descr" "bob cannot Get, use, Locate or Destroy alice's key;" \
	    "a grant of one operation allows exactly that one; revoke" \
	    "takes effect at once; grants survive a restart"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
grants_body()
{
	pol_start </dev/null
	set -- $(pol client pair grants-k1)
	pub=$1 priv=$2
	[ -n "$priv" ] || atf_fail "alice's key pair"
	expect "alice signs" ok client try sign "$priv"
	for op in get attrs sign destroy revoke; do
		expect "bob's $op before any grant" "fail 1 " bob try $op \
		    "$priv"
	done
	expect "bob's Locate before any grant" "fail none" bob try \
	    locate-id "$priv"

	atf_check -o match:granted $SIGNERCTL grant bob sign "$priv"
	expect "bob signs after the grant" ok bob try sign "$priv"
	# Seen, but only for Sign: Permission Denied for the rest.
	for op in get attrs destroy revoke activate; do
		expect "bob's $op with a Sign grant" "fail 12 " bob try $op \
		    "$priv"
	done
	expect "the public half is not granted" "fail 1 " bob try get "$pub"
	expect "no Locate grant, no Locate" "fail none" bob try locate-id \
	    "$priv"
	atf_check -o match:"^bob +object +$priv +sign" $SIGNERCTL show \
	    grants bob
	atf_check -o match:"\"identity\":\"bob\"" $SIGNERCTL -j show grants \
	    "$priv"

	# Each operation alone gives exactly that one.
	atf_check -o ignore $SIGNERCTL grant bob get "$pub"
	expect "bob gets the public key" ok bob try get "$pub"
	expect "Get does not give Destroy" "fail 12 " bob try destroy "$pub"
	atf_check -o ignore $SIGNERCTL grant bob locate "$pub"
	expect "bob locates it" ok bob try locate-id "$pub"

	atf_check -o match:revoked $SIGNERCTL revoke bob sign "$priv"
	expect "revoke takes effect at once" "fail 1 " bob try sign "$priv"
	atf_check -o ignore $SIGNERCTL grant bob sign "$priv"

	pol_restart
	expect "the grant survives a restart" ok bob try sign "$priv"
	expect "so does the Get of the public key" ok bob try get "$pub"
	expect "and still nothing more" "fail 12 " bob try destroy "$priv"
	atf_check -o ignore $SIGNERCTL grant bob destroy "$pub"
	expect "bob destroys what he was granted" ok bob try destroy "$pub"
	# A grant never lets its holder grant: grants are signerctl's.
	atf_check -s exit:1 -e match:"no object" $SIGNERCTL grant bob sign \
	    no-such-object
	# Every attempt is in the audit trail, with who and what came of it.
	audited bob Get "Operation Failed" "Item Not Found"
	audited bob Destroy "Operation Failed" "Permission Denied"
	audited bob Sign Success
	audited bob Destroy Success
	audited alice Sign Success
	sd_stop
}
grants_cleanup()
{
	sd_cleanup
}

atf_test_case scopes cleanup
scopes_head()
{
	atf_set "descr" "grants for all objects of an owner or of a signer;" \
	    "Locate shows a client its own and what Locate grants show it," \
	    "each once"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
scopes_body()
{
	sd_setup s1
	mkcert ops ops
	sd_conf s1
	sd_conf_soft
	echo 'admin "ops"' >>"$T/signerd.conf"
	sd_start 2
	set -- $(pol client pair scope-soft)
	spub=$1 spriv=$2
	# One of alice's keys in the token, made by an admin.
	tok=$(s1key scopetok)
	set -- $(pol ops pair scope-tok hsm=$tok owner=alice)
	[ "$2" = "$tok" ] || atf_fail "alice's token key: $*"
	set -- $(pol bob pair bob-own)
	bpub=$1 bpriv=$2

	# Owner scope: all of alice's.
	atf_check -o ignore $SIGNERCTL grant bob sign owner alice
	expect "owner grant: sign" ok bob try sign "$spriv"
	expect "owner grant: not get" "fail 12 " bob try get "$spub"
	atf_check -o ignore $SIGNERCTL revoke bob sign owner alice
	expect "owner grant revoked" "fail 1 " bob try sign "$spriv"

	# Signer scope: the keys of soft, not those of s1.
	atf_check -o ignore $SIGNERCTL grant bob sign locate signer soft
	expect "signer grant: sign on soft" ok bob try sign "$spriv"
	expect "signer grant: not on s1" "fail 1 " bob try sign "$tok"
	expect "owner grant gone" "fail 12 " bob try get "$spub"
	pol bob locate >"$T/loc"
	grep -q "^$spriv\$" "$T/loc" || atf_fail "signer grant: Locate"
	grep -q "^$bpriv\$" "$T/loc" || atf_fail "Locate: bob's own"
	[ "$(sort "$T/loc" | uniq -d)" = "" ] ||
	    atf_fail "Locate answered an object twice"

	# Locate by Name: exactly the granted one of that name.
	atf_check -o ignore $SIGNERCTL revoke bob locate signer soft
	pol bob locate scope-soft >"$T/loc"
	atf_check -o inline:"end\n" cat "$T/loc"
	atf_check -o ignore $SIGNERCTL grant bob locate "$spub"
	pol bob locate scope-soft >"$T/loc"
	atf_check -o inline:"$spub\nend\n" cat "$T/loc"
	atf_check -o ignore $SIGNERCTL grant bob locate owner alice
	pol bob locate scope-soft >"$T/loc"
	atf_check -o inline:"$(printf '%s\n' "$spub" "$spriv" | sort)\nend\n" \
	    cat "$T/loc"
	sd_stop
}
scopes_cleanup()
{
	sd_cleanup
}

atf_test_case admin cleanup
admin_head()
{
	atf_set "descr" "x-signerd-owner is an admin's: a non-admin is" \
	    "refused; an admin makes an HSM key for bob, and bob uses it"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
admin_body()
{
	sd_setup s1
	mkcert ops ops
	sd_conf s1
	sd_conf_soft
	echo 'admin "ops"' >>"$T/signerd.conf"
	sd_start 2
	out=$(pol bob pair for-alice owner=alice)
	case $out in
	"fail 12 "*) ;;
	*) atf_fail "bob made a key for alice: $out" ;;
	esac
	key=$(s1key bobkey)
	set -- $(pol ops pair bobkey hsm=$key owner=bob)
	[ "$2" = "$key" ] || atf_fail "admin's key for bob: $*"
	[ "$(keyfield "$key" owner)" = bob ] ||
	    atf_fail "owner of the admin's key"
	[ "$(keyfield "$key" signer)" = s1 ] ||
	    atf_fail "signer of the admin's key"
	expect "bob signs with it" ok bob try sign "$key"
	expect "alice does not" "fail 1 " client try sign "$key"
	expect "the admin may use it" ok ops try attrs "$key"
	audited bob "Create Key Pair" "Operation Failed" "Permission Denied"
	audited ops "Create Key Pair" Success
	audited alice Sign "Operation Failed" "Item Not Found"
	sd_stop
}
admin_cleanup()
{
	sd_cleanup
}

atf_test_case fingerprint cleanup
fingerprint_head()
{
	atf_set "descr" "a fingerprint binding names a certificate, over its" \
	    "CN, and only the bound certificates are that identity; a" \
	    "certificate of another CA never gets past the handshake"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 openssl"
}
fingerprint_body()
{
	sd_setup s1
	mkcert carol alice
	mkcert imposter carol-app
	mkcert stranger alice self
	sd_conf s1
	sd_conf_soft
	cat >>"$T/signerd.conf" <<EOT
identity "carol-app" {
	fingerprint "$(fingerprint carol)"
}
EOT
	sd_start 2
	set -- $(pol carol pair carol-key)
	[ -n "$2" ] || atf_fail "carol's key pair"
	[ "$(keyfield "$2" owner)" = carol-app ] ||
	    atf_fail "owner is $(keyfield "$2" owner), not carol-app"
	# Its CN is alice's, yet it is not alice.
	set -- $(pol client pair alice-key)
	expect "carol-app is not alice" "fail 1 " carol try get "$1"
	# A CN that names a bound identity does not make its certificate it.
	expect "a CN is not a binding" "fail 3 " imposter try query x
	# TLS 1.3: the refusal shows in the handshake or at the first read.
	: >"$T/py.err"
	out=$(pol stranger try query x)
	case $out in
	"fail closed") ;;
	"") grep -q "SSL\|certificate" "$T/py.err" ||
		atf_fail "the stranger: $(tail -1 "$T/py.err")" ;;
	*) atf_fail "a certificate of another CA was served: $out" ;;
	esac
	sd_stop
}
fingerprint_cleanup()
{
	sd_cleanup
}

atf_test_case passwords cleanup
passwords_head()
{
	atf_set "descr" "an identity with a password: none, wrong and right" \
	    "credentials; repeated wrong ones slow it down; a Credential" \
	    "where no password is set is ignored (Cascade's bridge)"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
passwords_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	hash=$(echo 'bob secret' | $BIN/signerctl hash-password) ||
	    atf_fail "hash-password"
	case $hash in
	'$scrypt$ln=13,r=8,p=1$'*) ;;
	*) atf_fail "hash-password printed $hash" ;;
	esac
	cat >>"$T/signerd.conf" <<EOT
identity "bob" {
	password "$hash"
}
EOT
	sd_start 2
	# Never in the log, nor in the configuration.
	expect "no Credential" "fail 3 " bob auth - -
	expect "Cascade's convention" "fail 3 " bob auth s1 1234
	expect "another username" "fail 3 " bob auth alice "bob secret"
	expect "wrong password" "fail 3 " bob auth bob "bob secre"
	atf_check -o inline:"ok\nok\nok\nok\n" -x \
	    "$PY $(atf_get_srcdir)/policy.py $PORT $T/pki bob auth bob" \
	    "'bob secret' 3"
	# Alice has no password: her Credential is ignored.
	atf_check -o inline:"ok\nok\n" -x \
	    "$PY $(atf_get_srcdir)/policy.py $PORT $T/pki client auth s1 1234"
	# Five wrong passwords in a row: refused for a while, the right one
	# too, without a derivation.
	for i in 1 2 3 4 5; do
		expect "wrong password $i" "fail 3 " bob auth bob nope
	done
	expect "slowed down" "fail 3 too many" bob auth bob "bob secret"
	grep -q "refused for" "$T/log" || atf_fail "no log of the delay"
	! grep -q "bob secret" "$T/log" || atf_fail "a password in the log"
	# The delay (4 s after five) ends.
	sleep 5
	expect "the delay ends" ok bob auth bob "bob secret"
	audited bob "*" "Operation Failed" "Authentication Not Successful"
	! grep -q "bob secret" "$T/db/audit.log" ||
	    atf_fail "a password in the audit trail"
	sd_stop
}
passwords_cleanup()
{
	sd_cleanup
}

atf_test_case identities cleanup
identities_head()
{
	atf_set "descr" "a default signer per identity takes its new keys;" \
	    "operations restrict what an identity may use; reload applies"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
identities_body()
{
	pol_start <<EOT
identity "alice" {
	default signer "s1"
}
identity "bob" {
	operations { locate get query }
}
EOT
	set -- $(pol client pair on-s1)
	[ "$(keyfield "$2" signer)" = s1 ] ||
	    atf_fail "alice's default signer: $(keyfield "$2" signer)"
	expect "bob may not create" "fail 12 " bob try pair bob-key
	expect "bob may query" ok bob try query x
	# Reload: bob gets everything, alice's keys go to soft.
	sed -i '/^identity/,$d' "$T/signerd.conf"
	atf_check -o ignore $SIGNERCTL reload
	sleep 1
	expect "after reload bob creates" ok bob try pair bob-key
	set -- $(pol client pair on-soft)
	[ "$(keyfield "$2" signer)" = soft ] ||
	    atf_fail "after reload: $(keyfield "$2" signer)"
	sd_stop
}
identities_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case grants
	atf_add_test_case scopes
	atf_add_test_case admin
	atf_add_test_case fingerprint
	atf_add_test_case passwords
	atf_add_test_case identities
}
