#! /usr/bin/env atf-sh
#
# signerd.conf(5) parser: golden "signerd -nv" output, the shipped
# example, macros, includes, and the errors, each with its file:line.
#
# Every case runs "signerd -n" in its own work directory.  Paths that
# must exist (certificates, PKCS#11 module, PIN files) are fake files made
# by mkpki and passed in as the macro $dir with -D.

signerd()
{
	"$(atf_get_srcdir)/../../bin/signerd" "$@"
}

# Fake files for the checks that look at the file system.
mkpki()
{
	mkdir -p pki || atf_fail "mkdir pki"
	PKI=$(cd pki && pwd -P)
	for f in server.crt server.key ca.crt client.crt client.key \
	    module.so; do
		echo "not really $f" >"$PKI/$f"
	done
	for f in pin kek password; do
		echo "secret" >"$PKI/$f"
		chmod 600 "$PKI/$f"
	done
}

# check_ok file: "signerd -n" accepts it.
check_ok()
{
	signerd -n -D dir="$PKI" -f "$1" >out 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		cat out >&2
		atf_fail "$1: exit $rc, expected 0"
	fi
	grep -q "configuration OK" out ||
	    { cat out >&2; atf_fail "$1: no \"configuration OK\""; }
}

# check_errors file message...: "signerd -n" refuses the file and prints
# every message (fixed strings, normally "file:line: text").
check_errors()
{
	_f=$1
	shift
	signerd -n -D dir="$PKI" -f "$_f" >out 2>err
	rc=$?
	if [ $rc -ne 1 ]; then
		cat out err >&2
		atf_fail "$_f: exit $rc, expected 1"
	fi
	grep -q "configuration OK" out err &&
	    atf_fail "$_f: \"configuration OK\" despite errors"
	for _m in "$@"; do
		grep -qF -- "$_m" err ||
		    { cat err >&2; atf_fail "$_f: missing error: $_m"; }
	done
	return 0
}

# check_nerrors n: the last check_errors printed exactly n lines.
check_nerrors()
{
	_n=$(wc -l <err)
	[ "$_n" -eq "$1" ] ||
	    { cat err >&2; atf_fail "$_n lines of errors, expected $1"; }
}

# golden name: -nv output of name.conf equals name.ok (with @DIR@ for the
# fake files), and that output parses again to the same output.
golden()
{
	signerd -nv -D dir="$PKI" -f "$(atf_get_srcdir)/$1.conf" >out 2>err
	rc=$?
	[ $rc -eq 0 ] || { cat err >&2; atf_fail "$1.conf: exit $rc"; }
	sed "s|$PKI|@DIR@|g" out >out.norm
	diff -u "$(atf_get_srcdir)/$1.ok" out.norm >&2 ||
	    atf_fail "$1: -nv output differs from $1.ok"
	reparse out
}

# reparse file: -nv output of file parses again to itself.
reparse()
{
	cp "$1" again.conf
	signerd -nv -f again.conf >again.out 2>err
	rc=$?
	[ $rc -eq 0 ] || { cat err >&2; atf_fail "-nv output: exit $rc"; }
	diff -u again.conf again.out >&2 ||
	    atf_fail "-nv output does not parse back to itself"
}

atf_test_case example
example_head()
{
	atf_set "descr" "The shipped etc/signerd.conf parses"
}
example_body()
{
	mkpki
	ex=
	for d in "$(atf_get_srcdir)/../etc" "$(atf_get_srcdir)/../../../etc"; do
		if [ -f "$d/signerd.conf" ]; then
			ex=$d/signerd.conf
			break
		fi
	done
	[ -n "$ex" ] || atf_fail "etc/signerd.conf not found"
	# Root as the user, the fake module, the fake certificates (-D wins
	# over the file's own pki macro).
	{
		echo 'user "root"'
		sed "s|\"/usr/lib/softhsm/libsofthsm2.so\"|\$dir/module.so|" \
		    "$ex"
	} >example.conf
	grep -q '\$dir/module.so' example.conf ||
	    atf_fail "the example no longer uses the SoftHSM module path"
	signerd -n -D pki="$PKI" -D dir="$PKI" -f example.conf >out 2>&1 ||
	    { cat out >&2; atf_fail "example.conf refused"; }
	grep -q "configuration OK" out || atf_fail "no configuration OK"
	signerd -nv -D pki="$PKI" -D dir="$PKI" -f example.conf >ex.out \
	    2>err || { cat err >&2; atf_fail "-nv failed"; }
	grep -q '^default signer "softhsm"$' ex.out ||
	    atf_fail "default signer missing from -nv output"
	grep -q '^one-off signer "soft"$' ex.out ||
	    atf_fail "one-off signer missing from -nv output"
	reparse ex.out
}

atf_test_case golden_minimal
golden_minimal_head()
{
	atf_set "descr" "-nv of a nearly empty file shows every default"
}
golden_minimal_body()
{
	mkpki
	golden golden_minimal
}

atf_test_case golden_full
golden_full_head()
{
	atf_set "descr" "-nv of every global, listener, pkcs11 and openssl option"
}
golden_full_body()
{
	mkpki
	golden golden_full
}

atf_test_case golden_kmip
golden_kmip_head()
{
	atf_set "descr" "-nv of a kmip signer, quoting, implicit default signer"
}
golden_kmip_body()
{
	mkpki
	golden golden_kmip
	# Accepted, but not built: -n says so.
	signerd -n -D dir="$PKI" -f "$(atf_get_srcdir)/golden_kmip.conf" \
	    >out 2>err || atf_fail "golden_kmip.conf refused"
	grep -q 'warning: kmip signer "upstream.kmip-1": this type is not built yet' err ||
	    { cat err >&2; atf_fail "no warning that kmip is not built"; }
}

atf_test_case macros
macros_head()
{
	atf_set "descr" "Macros, -D overriding the file, undefined macros"
}
macros_body()
{
	mkpki
	cat >m.conf <<'EOF'
who = "root"
socketdir = /tmp/regress
n = 77
kw = "timeout"
user $who
control socket $socketdir/signerd.sock
max connections $n
idle $kw 9
admin "$who"
EOF
	signerd -nv -D n=88 -f m.conf >out 2>err ||
	    { cat err >&2; atf_fail "m.conf refused"; }
	grep -q '^user "root"$' out || atf_fail "macro as argument"
	grep -q '^control socket "/tmp/regress/signerd.sock"$' out ||
	    atf_fail "macro followed by text"
	grep -q '^max connections 88$' out || atf_fail "-D did not win"
	grep -q '^idle timeout 9$' out || atf_fail "macro as keyword"
	grep -q '^admin "\$who"$' out || atf_fail "macro expanded in quotes"

	printf 'user "root"\nmax connections $nope\n' >undef.conf
	check_errors undef.conf 'undef.conf:2: macro "nope" is not defined'
	check_nerrors 1
}

atf_test_case include
include_head()
{
	atf_set "descr" "include, relative to the including file"
}
include_body()
{
	mkpki
	cp "$(atf_get_srcdir)"/include_*.conf .
	signerd -nv -D dir="$PKI" -f include_main.conf >out 2>err ||
	    { cat err >&2; atf_fail "include_main.conf refused"; }
	grep -q '^signer "hsm" pkcs11 {$' out ||
	    atf_fail "included signer missing"
	grep -q '^default signer "hsm"$' out || atf_fail "default signer"
	# From another directory, the include is still found.
	mkdir sub
	(cd sub && signerd -n -D dir="$PKI" -f ../include_main.conf) \
	    >out 2>&1 || { cat out >&2; atf_fail "from a subdirectory"; }
}

atf_test_case include_errors
include_errors_head()
{
	atf_set "descr" "Errors in an included file carry its name and lines"
}
include_errors_body()
{
	mkpki
	cp "$(atf_get_srcdir)"/include_*.conf .
	check_errors include_bad.conf \
	    'include_broken.conf:3: syntax error near "frobs"' \
	    'include_broken.conf:4: max message 5 out of range' \
	    'include_bad.conf:3: max connections 0 out of range'
	check_nerrors 3

	printf 'user "root"\ninclude "nonexistent.conf"\n' >missing.conf
	check_errors missing.conf \
	    'missing.conf:2: cannot include "nonexistent.conf"'
	check_nerrors 1

	check_errors include_self.conf 'includes nested too deeply'
}

atf_test_case comments
comments_head()
{
	atf_set "descr" "Comments, blank lines, line continuation, line numbers"
}
comments_body()
{
	mkpki
	cat >c.conf <<'EOF'
# a comment
   # an indented comment

user \
	"root"		# a trailing comment
admin "has # no comment"
max \
connections \
12
EOF
	signerd -nv -f c.conf >out 2>err ||
	    { cat err >&2; atf_fail "c.conf refused"; }
	grep -q '^user "root"$' out || atf_fail "continued user"
	grep -q '^admin "has # no comment"$' out || atf_fail "# in quotes"
	grep -q '^max connections 12$' out || atf_fail "continued twice"

	# Line numbers count the continued lines.
	cat >l.conf <<'EOF'
user \
  "root"
max \
  connections \
  0
EOF
	check_errors l.conf 'l.conf:5: max connections 0 out of range'
}

atf_test_case signer_errors
signer_errors_head()
{
	atf_set "descr" "Each semantic error on signers, at its file:line"
}
signer_errors_body()
{
	mkpki
	cat >s.conf <<'EOF'
user "root"
signer "a" pkcs11 {
	module $dir/module.so
	token "t"
	pin env "PIN"
}
signer "a" pkcs11 {
	module $dir/module.so
	slot 1
	pin env "PIN"
}
signer "nomodule" pkcs11 {
	token "t"
	pin env "PIN"
}
signer "noslot" pkcs11 {
	module $dir/module.so
	pin env "PIN"
}
signer "both" pkcs11 {
	module $dir/module.so
	token "t"
	slot 0
	pin env "PIN"
}
signer "nopin" pkcs11 {
	module $dir/module.so
	slot 0
}
signer "neither" openssl {
}
signer "self" openssl {
	wrap with "self"
	kek file $dir/kek
}
signer "wrapsoft" openssl {
	wrap with "neither"
}
signer "wrapnone" openssl {
	wrap with "ghost"
}
signer "k" kmip {
	port 1
}
signer "bad name" openssl {
	wrap with "a"
}
signer "m" openssl {
	module $dir/module.so
	kek file $dir/kek
}
default signer "ghost"
one-off signer "phantom"
EOF
	check_errors s.conf \
	    's.conf:7: duplicate signer "a" (first defined at s.conf:2)' \
	    's.conf:12: pkcs11 signer "nomodule" has no module' \
	    's.conf:16: pkcs11 signer "noslot" needs a token, a serial or a slot' \
	    's.conf:20: pkcs11 signer "both" has both token and slot' \
	    's.conf:26: pkcs11 signer "nopin" logs in but has no pin' \
	    's.conf:30: openssl signer "neither" needs wrap with or kek file' \
	    's.conf:32: signer "self": wrap with itself: name the pkcs11 signer whose token holds the key-encryption key' \
	    's.conf:36: signer "wrapsoft": wrap with "neither": not a pkcs11 signer' \
	    's.conf:39: signer "wrapnone": wrap with "ghost": no such signer' \
	    's.conf:42: kmip signer "k" has no host' \
	    's.conf:42: kmip signer "k" has no ca' \
	    's.conf:42: kmip signer "k" has no certificate' \
	    's.conf:42: kmip signer "k" has no key' \
	    's.conf:45: invalid signer name "bad name"' \
	    's.conf:49: module is not an option of openssl signers' \
	    's.conf:52: default signer "ghost" is not defined' \
	    's.conf:53: one-off signer "phantom" is not defined'
	check_nerrors 17
}

atf_test_case global_errors
global_errors_head()
{
	atf_set "descr" "Listener and global errors, ranges, duplicates"
}
global_errors_body()
{
	mkpki
	cat >g.conf <<'EOF'
user "root"
user "root"
max message 1023
max message 1048577
idle timeout 86401
read timeout 0
keystore "relative.db"
listen on 127.0.0.1 tls {
	certificate $dir/server.crt
	key $dir/server.key
	client ca $dir/ca.crt
}
listen on 127.0.0.1 port 5696 tls {
	certificate $dir/server.crt
	key $dir/server.key
	client ca $dir/ca.crt
}
listen on 127.0.0.2 port 0 tls {
	certificate $dir/server.crt
}
listen on 127.0.0.3 tls {
	certificate $dir/server.crt
	key $dir/server.key
	client ca $dir/ca.crt
	tls 1.1 allow
}
admin "x"
admin "x"
EOF
	check_errors g.conf \
	    'g.conf:2: duplicate user' \
	    'g.conf:3: max message 1023 out of range (1024 to 1048576)' \
	    'g.conf:4: duplicate max message' \
	    'g.conf:5: idle timeout 86401 out of range (1 to 86400)' \
	    'g.conf:6: read timeout 0 out of range (1 to 86400)' \
	    'g.conf:7: keystore "relative.db" is not an absolute path' \
	    'g.conf:13: duplicate listen on 127.0.0.1 port 5696' \
	    'g.conf:18: port 0 out of range (1 to 65535)' \
	    'g.conf:18: listen on 127.0.0.2: key missing' \
	    'g.conf:18: listen on 127.0.0.2: client ca missing' \
	    'g.conf:25: only "tls 1.2 allow" is supported' \
	    'g.conf:28: duplicate admin "x"'
	check_nerrors 12
}

atf_test_case missing_user
missing_user_head()
{
	atf_set "descr" "A user that does not exist: one clear line"
}
missing_user_body()
{
	mkpki
	printf '# no such user\nuser "nosuchuser-signerd-regress"\n' >u.conf
	check_errors u.conf \
	    'u.conf:2: user "nosuchuser-signerd-regress" does not exist'
	check_nerrors 1

	printf 'control socket "/tmp/s.sock" group "nosuchgroup-regress"\n' \
	    >grp.conf
	printf 'user "root"\n' >>grp.conf
	check_errors grp.conf \
	    'grp.conf:1: group "nosuchgroup-regress" does not exist'
	check_nerrors 1

	# Without a user statement, the default must exist.
	printf 'admin "alice"\n' >d.conf
	if getent passwd _signerd >/dev/null &&
	    getent passwd _signerd_hsm >/dev/null; then
		check_ok d.conf
	else
		check_errors d.conf 'd.conf: no such user'
	fi
}

atf_test_case signer_user
signer_user_head()
{
	atf_set "descr" "signer user: exists, differs from user, printed"
}
signer_user_body()
{
	mkpki
	printf 'user "root"\nsigner user "root"\n' >same.conf
	check_errors same.conf 'same.conf:2: signer user must differ from user'
	check_nerrors 1
	printf 'user "root"\nsigner user "nosuchuser-signerd-regress"\n' \
	    >none.conf
	check_errors none.conf \
	    'none.conf:2: user "nosuchuser-signerd-regress" does not exist'
	check_nerrors 1
	printf 'user "root"\nsigner user "daemon"\nsigner user "bin"\n' \
	    >twice.conf
	check_errors twice.conf 'twice.conf:3:'
	check_nerrors 1
	printf 'user "root"\nsigner user "daemon"\n' >ok.conf
	signerd -nv -f ok.conf >out 2>err || { cat err >&2; atf_fail "refused"; }
	grep -q '^signer user "daemon"$' out || atf_fail "not printed"
}

atf_test_case missing_module
missing_module_head()
{
	atf_set "descr" "A PKCS#11 module that does not exist: one clear line"
}
missing_module_body()
{
	mkpki
	cat >mm.conf <<'EOF'
user "root"
signer "hsm" pkcs11 {
	module "/nonexistent/libpkcs11.so"
	token "t"
	pin env "PIN"
}
EOF
	check_errors mm.conf \
	    'mm.conf:3: pkcs11 module "/nonexistent/libpkcs11.so": No such file or directory'
	check_nerrors 1

	sed "s|\"/nonexistent/libpkcs11.so\"|\"$PKI\"|" mm.conf >dir.conf
	check_errors dir.conf "dir.conf:3: pkcs11 module \"$PKI\" is not a regular file"
	check_nerrors 1

	# A symbolic link is resolved.
	ln -s module.so "$PKI/link.so"
	sed "s|\"/nonexistent/libpkcs11.so\"|\"$PKI/link.so\"|" mm.conf \
	    >link.conf
	signerd -nv -f link.conf >out 2>err ||
	    { cat err >&2; atf_fail "link.conf refused"; }
	grep -qF "module \"$PKI/module.so\"" out ||
	    atf_fail "module path not resolved"
}

atf_test_case missing_certificate
missing_certificate_head()
{
	atf_set "descr" "A certificate that does not exist: one clear line"
}
missing_certificate_body()
{
	mkpki
	cat >mc.conf <<'EOF'
user "root"
listen on 127.0.0.1 tls {
	certificate $dir/server.crt
	key $dir/server.key
	client ca $dir/missing-ca.crt
}
EOF
	check_errors mc.conf \
	    "mc.conf:5: client ca \"$PKI/missing-ca.crt\": No such file or directory"
	check_nerrors 1
}

atf_test_case literal_pin
literal_pin_head()
{
	atf_set "descr" "PINs and passwords written in the file are refused"
}
literal_pin_body()
{
	mkpki
	cat >p.conf <<'EOF'
user "root"
signer "hsm" pkcs11 {
	module $dir/module.so
	token "t"
	pin "1234"
}
signer "hsm2" pkcs11 {
	module $dir/module.so
	token "t"
	pin 1234
}
signer "k" kmip {
	host "h"
	ca $dir/ca.crt
	certificate $dir/client.crt
	key $dir/client.key
	username "u"
	password "secret"
}
EOF
	check_errors p.conf \
	    'p.conf:5: a PIN cannot be written in the configuration; use pin env "VARIABLE" or pin file "path"' \
	    'p.conf:10: a PIN cannot be written in the configuration' \
	    'p.conf:18: a password cannot be written in the configuration'
	check_nerrors 3
	grep -q 1234 err && atf_fail "the PIN was echoed"
	grep -q secret err && atf_fail "the password was echoed"
	return 0
}

atf_test_case secret_files
secret_files_head()
{
	atf_set "descr" "pin, kek and password files must be private"
}
secret_files_body()
{
	mkpki
	chmod 644 "$PKI/pin"
	chmod 660 "$PKI/kek"
	cat >sf.conf <<'EOF'
user "root"
signer "hsm" pkcs11 {
	module $dir/module.so
	token "t"
	pin file $dir/pin
}
signer "soft" openssl {
	kek file $dir/kek
}
signer "k" kmip {
	host "h"
	ca $dir/ca.crt
	certificate $dir/client.crt
	key $dir/client.key
	username "u"
	password file $dir/nonexistent
}
EOF
	check_errors sf.conf \
	    "sf.conf:5: pin file \"$PKI/pin\" is not private" \
	    "sf.conf:8: kek file \"$PKI/kek\" is not private" \
	    "sf.conf:16: password file \"$PKI/nonexistent\": No such file"
	chmod 600 "$PKI/pin" "$PKI/kek"
	sed "s|nonexistent|password|" sf.conf >ok.conf
	check_ok ok.conf
}

atf_test_case multiple_errors
multiple_errors_head()
{
	atf_set "descr" "Every error of a file is reported, not only the first"
}
multiple_errors_body()
{
	mkpki
	cat >me.conf <<'EOF'
user "root"
frobnicate yes
max connections 0
signer "x" pkcs11 {
	module $dir/module.so
	bogus option
	sessions 65
	pin "0000"
	token "t"
	pin env "PIN"
}
listen on 127.0.0.1 port 70000 tls {
	certificate $dir/server.crt
	key $dir/server.key
	client ca $dir/ca.crt
}
"unterminated
default signer "nobody"
EOF
	check_errors me.conf \
	    'me.conf:2: syntax error near "yes"' \
	    'me.conf:3: max connections 0 out of range' \
	    'me.conf:6: syntax error near "bogus"' \
	    'me.conf:7: sessions 65 out of range (1 to 64)' \
	    'me.conf:8: a PIN cannot be written in the configuration' \
	    'me.conf:12: port 70000 out of range (1 to 65535)' \
	    'me.conf:17: unterminated quoted string' \
	    'me.conf:18: default signer "nobody" is not defined'
	check_nerrors 8
}

atf_test_case garbage
garbage_head()
{
	atf_set "descr" "Binary bytes, unterminated strings, huge tokens: errors"
}
garbage_body()
{
	mkpki
	# expect_fail file: exit 1 (not a crash) with a message on stderr.
	expect_fail()
	{
		signerd -n -f "$1" >out 2>err
		rc=$?
		[ $rc -eq 1 ] || { cat err >&2; atf_fail "$1: exit $rc"; }
		grep -q "$1:[0-9]*: " err || atf_fail "$1: no file:line error"
	}

	printf 'user "root"\n\001\002\003\377\376 {}}{\n\000\000\n' >bin.conf
	expect_fail bin.conf
	grep -qF 'bin.conf:2: invalid character 0x01' err ||
	    atf_fail "binary byte not reported"
	grep -qF 'bin.conf:3: invalid character 0x00' err ||
	    atf_fail "NUL byte not reported"

	printf 'user "root"\nadmin "unterminated' >unterm.conf
	expect_fail unterm.conf
	grep -qF 'unterm.conf:2: unterminated quoted string' err ||
	    atf_fail "unterminated string at EOF"

	printf 'user "root"\nsigner "x" pkcs11 {\n' >eof.conf
	expect_fail eof.conf
	grep -qF "eof.conf:2: unexpected end of file: '{' on line 2" err ||
	    atf_fail "unclosed block"

	awk 'BEGIN { s = "x"; while (length(s) < 9000) s = s s;
	    printf "user \"root\"\nadmin \"%s\"\nadmin %s\n", s, s }' \
	    >long.conf
	expect_fail long.conf
	grep -qF 'long.conf:2: string too long' err ||
	    atf_fail "long quoted string"
	grep -qF 'long.conf:3: string too long' err || atf_fail "long word"

	dd if=/dev/urandom of=random.conf bs=1024 count=64 2>/dev/null
	signerd -n -f random.conf >out 2>err
	rc=$?
	[ $rc -eq 1 ] || atf_fail "random.conf: exit $rc"
	return 0
}

atf_test_case golden_identity
golden_identity_head()
{
	atf_set "descr" "-nv of identity blocks: fingerprints, password" \
	    "hashes, default signer, operations"
}
golden_identity_body()
{
	mkpki
	golden golden_identity
}

atf_test_case identity_errors
identity_errors_head()
{
	atf_set "descr" "identity blocks: a fingerprint bound twice, bad" \
	    "fingerprints and hashes, a password in clear, unknown" \
	    "operations and signers, duplicates; each with its line"
}
identity_errors_body()
{
	mkpki
	fp=sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
	cat >identity.conf <<EOT
user "root"
signer "soft" openssl {
	kek file "$PKI/kek"
}
identity "a" {
	fingerprint "$fp"
	fingerprint "$fp"
	fingerprint "sha256:0011"
	fingerprint "md5:00112233445566778899aabbccddeeff"
	password "hunter2"
	operations { sign fly }
	default signer "nope"
}
identity "b" {
	fingerprint "$fp"
	password "\$scrypt\$ln=30,r=8,p=1\$c2FsdHNhbHRzYWx0c2FsdA\$MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI"
}
identity "c" {
	password "\$pbkdf2-sha256\$i=5\$c2FsdHNhbHRzYWx0\$MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI"
}
identity "a" {
}
EOT
	check_errors identity.conf \
	    "identity.conf:7: fingerprint given twice" \
	    "identity.conf:8: a fingerprint is" \
	    "identity.conf:9: a fingerprint is" \
	    "identity.conf:10: password: a password hash is" \
	    "identity.conf:11: unknown operation \"fly\"" \
	    "identity.conf:5: identity \"a\": default signer \"nope\" is not" \
	    "identity.conf:14: identity \"b\": a fingerprint bound to \"a\"" \
	    "identity.conf:16: password: scrypt parameters are" \
	    "identity.conf:19: password: PBKDF2 takes" \
	    "identity.conf:21: duplicate identity \"a\""
	! grep -q hunter2 err || atf_fail "the password is in an error"
}

atf_test_case audit
audit_head()
{
	atf_set "descr" "The audit block: sizes with K, M, G, its errors," \
	    "and -nv output that parses back"
}
audit_body()
{
	mkpki
	cat >a.conf <<'EOF'
audit {
	file "trail.log" rotate 1G keep 0
	syslog no
}
EOF
	check_ok a.conf
	signerd -nv -f a.conf >out 2>&1
	grep -q '^audit { file "trail.log" rotate 1073741824 keep 0 syslog no }$' \
	    out || atf_fail "-nv: $(cat out)"
	reparse out
	echo 'audit no' >b.conf
	signerd -nv -f b.conf >out 2>&1
	grep -q '^audit no$' out || atf_fail "-nv: $(cat out)"
	reparse out
	# The log's copy is asked for; by default there is none.
	echo 'audit { syslog yes }' >d.conf
	signerd -nv -f d.conf >out 2>&1
	grep -q '^audit { file "audit.log" rotate 67108864 keep 8 syslog yes }$' \
	    out || atf_fail "-nv: $(cat out)"
	reparse out
	: >e.conf
	signerd -nv -f e.conf >out 2>&1
	grep -q '^audit' out && atf_fail "-nv of the default: $(cat out)"
	cat >c.conf <<'EOF'
audit { file "../x" }
audit { rotate 100 }
audit { rotate 12X keep -1 }
EOF
	check_errors c.conf \
	    "c.conf:1: audit file must be a file name of 1 to 100 characters" \
	    'c.conf:2: duplicate audit' \
	    'c.conf:2: audit rotate must be 0 (never) or at least 4096 bytes' \
	    'c.conf:3: bad size "12X"' \
	    'c.conf:3: audit keep -1 out of range (0 to 100000)'
}

atf_init_test_cases()
{
	atf_add_test_case audit
	atf_add_test_case example
	atf_add_test_case golden_minimal
	atf_add_test_case golden_full
	atf_add_test_case golden_kmip
	atf_add_test_case golden_identity
	atf_add_test_case identity_errors
	atf_add_test_case macros
	atf_add_test_case include
	atf_add_test_case include_errors
	atf_add_test_case comments
	atf_add_test_case signer_errors
	atf_add_test_case global_errors
	atf_add_test_case missing_user
	atf_add_test_case signer_user
	atf_add_test_case missing_module
	atf_add_test_case missing_certificate
	atf_add_test_case literal_pin
	atf_add_test_case secret_files
	atf_add_test_case multiple_errors
	atf_add_test_case garbage
}
