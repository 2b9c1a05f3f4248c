#! /usr/bin/env atf-sh
#
# Every example configuration that is shipped or documented starts a
# daemon that creates and uses keys: the README's, etc/signerd.conf and
# the EXAMPLES of signerd.conf(5).  Each is taken from its file as it is,
# then only its paths are moved to a state directory of the test
# (/etc/signerd -> the test PKI and PIN files; the keystore, the control
# socket and the chroot are the test's) and its port to a random one; `signerd -n` must accept it, and
# etc/kmip-demo.py must create, activate, sign with and verify a key of
# the default signer, and one in the token when there is a pkcs11 signer.

. "$(atf_get_srcdir)/../daemon/lib.sh"

TOP=$(cat "$srcdir/../top" 2>/dev/null)

need_top()
{
	[ -n "$TOP" ] && [ -f "$TOP/README" ] ||
	    atf_skip "no source tree recorded in $srcdir/../top (run.sh)"
}

# blocks_text FILE: the examples of a text file, where a block is the
# lines indented by a tab, and an example one that has a "listen on".
# Each goes to ex.N; prints N.
blocks_text()
{
	awk '
	function flush() {
		if (blk != "" && blk ~ /(^|\n)[ \t]*listen on/) {
			n++
			printf "%s", blk >("ex." n)
			close("ex." n)
		}
		blk = ""
	}
	/^\t/ { sub(/^\t/, ""); blk = blk $0 "\n"; next }
	/^$/ { if (blk != "") blk = blk "\n"; next }
	{ flush() }
	END { flush(); print n + 0 }' "$1"
}

# blocks_mdoc FILE: the same for the .Bd -literal displays of a manual.
blocks_mdoc()
{
	awk '
	/^\.Bd -literal/ { inblk = 1; blk = ""; next }
	/^\.Ed/ {
		if (inblk && blk ~ /(^|\n)[ \t]*listen on/) {
			n++
			printf "%s", blk >("ex." n)
			close("ex." n)
		}
		inblk = 0
		next
	}
	inblk { gsub(/\\e/, "\\"); gsub(/\\&/, ""); blk = blk $0 "\n" }
	END { print n + 0 }' "$1"
}

# run_example FILE WHAT: rewrite, check, start, use, stop.
run_example()
{
	rm -rf "$T/db"
	sd_newport
	# The files of /etc/signerd are those of the test PKI; a pin file
	# or kek file named there is made.
	for f in $(grep -o '"/etc/signerd/[^"]*"' "$1" | tr -d '"'); do
		case $f in
		*.pin)	cp "$T/signerd.pin" "$T/pki/${f##*/}"
			chmod 600 "$T/pki/${f##*/}" ;;
		*kek*)	(umask 077; head -c 32 /dev/urandom \
			    >"$T/pki/${f##*/}") ;;
		esac
	done
	sed -e "s|/etc/signerd|$T/pki|g" -e "s|port 5696|port $PORT|g" \
	    -e '/^#*control socket/d' -e '/^#*chroot/d' -e '/^#*keystore/d' \
	    "$1" >"$T/signerd.conf"
	# The test's control socket, chroot and keystore (whether the
	# example names the default or not), after the example.
	printf 'control socket "%s"\nchroot "%s"\nkeystore "%s"\n' "$CTL" \
	    "$T/empty" "$T/db/keystore.db" >>"$T/signerd.conf"
	grep -q "port $PORT" "$T/signerd.conf" ||
	    atf_fail "$2: no listener on port 5696 to move"
	"$BIN/signerd" -n -f "$T/signerd.conf" >"$T/n.out" 2>&1 ||
	    { cat "$T/signerd.conf"; atf_fail "$2: signerd -n:" \
	    "$(cat "$T/n.out")"; }
	grep -q "configuration OK" "$T/n.out" ||
	    atf_fail "$2: no \"configuration OK\""
	nsig=$(grep -c '^signer "' "$T/signerd.conf")
	[ "$nsig" -gt 0 ] || atf_fail "$2: no signer"
	sd_start "$nsig"
	hsm=--no-hsm
	grep -q '^signer "[^"]*" pkcs11' "$T/signerd.conf" &&
	    grep -q '^admin "alice"' "$T/signerd.conf" && hsm=
	timeout 60 /usr/bin/python3 "$TOP/etc/kmip-demo.py" -p $PORT \
	    -c "$T/pki/client.crt" -k "$T/pki/client.key" -C "$T/pki/ca.crt" \
	    -s "$CTL" --signerctl "$BIN/signerctl" $hsm >"$T/demo" 2>&1 ||
	    { cat "$T/demo" "$T/log"; atf_fail "$2: no key created and used"; }
	grep -q "^all signatures verified" "$T/demo" ||
	    atf_fail "$2: $(cat "$T/demo")"
	sd_stop
	echo "$2: ok ($nsig signers${hsm:+, default signer only})"
}

# examples KIND FILE: every example of FILE.
examples()
{
	need_top
	sd_setup signerd
	export SIGNERD_SOFTHSM_PIN
	SIGNERD_SOFTHSM_PIN=$(cat "$T/signerd.pin")
	# Not i or n: lib.sh's loops use those.
	case $1 in
	text)	nex=$(blocks_text "$2") ;;
	mdoc)	nex=$(blocks_mdoc "$2") ;;
	conf)	cp "$2" ex.1; nex=1 ;;
	esac
	[ "$nex" -gt 0 ] || atf_fail "no example found in $2"
	ex=1
	while [ $ex -le "$nex" ]; do
		run_example "ex.$ex" "${2##*/} example $ex"
		ex=$((ex + 1))
	done
}

atf_test_case readme cleanup
readme_head()
{
	atf_set "descr" "the README's configurations start and make keys"
	atf_set "require.user" "root"
	atf_set "timeout" "180"
}
readme_body()
{
	examples text "$TOP/README"
}
readme_cleanup()
{
	sd_cleanup
}

atf_test_case etc_conf cleanup
etc_conf_head()
{
	atf_set "descr" "etc/signerd.conf starts and makes keys"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
etc_conf_body()
{
	examples conf "$TOP/etc/signerd.conf"
}
etc_conf_cleanup()
{
	sd_cleanup
}

atf_test_case manpage cleanup
manpage_head()
{
	atf_set "descr" "signerd.conf(5) EXAMPLES start and make keys"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
manpage_body()
{
	examples mdoc "$TOP/docs/signerd.conf.5"
}
manpage_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case readme
	atf_add_test_case etc_conf
	atf_add_test_case manpage
}
