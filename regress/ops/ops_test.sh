#! /usr/bin/env atf-sh
#
# What an operator and a new user meet (issue 12): the README's quick
# start (`make run` and etc/kmip-demo.py), a log without noise on
# shutdown and on clients that reset their connection, the systemd unit
# and the Debian package.

. "$(atf_get_srcdir)/../daemon/lib.sh"

# The source tree, which regress/run.sh records.
TOP=$(cat "$srcdir/../top" 2>/dev/null)
O=$(cd "$BIN/.." && pwd)

need_top()
{
	[ -n "$TOP" ] && [ -f "$TOP/etc/run-local.sh" ] ||
	    atf_skip "no source tree recorded in $srcdir/../top (run.sh)"
}

atf_test_case quickstart cleanup
quickstart_head()
{
	atf_set "descr" "README: make run, then kmip-demo.py creates, " \
	    "activates, signs and verifies with a software and a token key"
	atf_set "require.user" "root"
	atf_set "timeout" "90"
}
quickstart_body()
{
	need_top
	sd_setup
	# What `make run` runs, in a state directory of our own.
	SIGNERD_RUNDIR=$T SIGNERD_PORT=$PORT sh "$TOP/etc/run-local.sh" "$O" \
	    >"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	CTL=$T/signerd.sock
	sd_wait_ready 2
	grep -q "key  *$T/pki/client.key" "$T/log" ||
	    atf_fail "the banner does not name the client key: $(cat "$T/log")"
	demo=$(sed -n 's/^  try it *//p' "$T/log")
	[ -n "$demo" ] || atf_fail "the banner shows no command to try"
	# The command the banner (and the README) gives, as it is.
	timeout 60 sh -c "$demo" >"$T/demo" 2>&1 ||
	    atf_fail "kmip-demo.py: $(cat "$T/demo")"
	cat "$T/demo"
	grep -q "^all signatures verified" "$T/demo" ||
	    atf_fail "no \"all signatures verified\""
	[ "$(grep -c "signature OK" "$T/demo")" -eq 2 ] ||
	    atf_fail "not two verified signatures"
	grep -q "hsm::[0-9]*::demo-" "$T/demo" ||
	    atf_fail "no key made in the token"
	grep -q "Sign before Activate *refused" "$T/demo" ||
	    atf_fail "Sign of a Pre-Active key was not refused"
	sd_stop
}
quickstart_cleanup()
{
	sd_cleanup
}

atf_test_case shutdown_quiet cleanup
shutdown_quiet_head()
{
	atf_set "descr" "SIGTERM logs no imsgbuf_read error of the " \
	    "children that went first"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
shutdown_quiet_body()
{
	sd_setup t1
	sd_conf t1
	sd_conf_soft
	# A few rounds: which child goes first varies.
	sd_cycle 5 2 log verbose
	grep -q "shutting down" "$T/log" || atf_fail "no shutdown logged"
	if grep -E "imsgbuf_(read|write)|Connection reset" "$T/log"; then
		atf_fail "shutdown logs an error of a channel"
	fi
}
shutdown_quiet_cleanup()
{
	sd_cleanup
}

atf_test_case reset_quiet cleanup
reset_quiet_head()
{
	atf_set "descr" "a client that resets its connection after the " \
	    "handshake is one debug line naming it, no OpenSSL error"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
reset_quiet_body()
{
	sd_setup t1
	sd_conf t1
	sd_start 1
	n=0
	while [ $n -lt 3 ]; do
		/usr/bin/python3 "$srcdir/reset.py" $PORT "$T/pki" \
		    >>"$T/ports" 2>&1 || atf_fail "reset.py: $(cat "$T/ports")"
		n=$((n + 1))
	done
	sd_ctl log verbose >/dev/null
	/usr/bin/python3 "$srcdir/reset.py" $PORT "$T/pki" >"$T/port" 2>&1 ||
	    atf_fail "reset.py: $(cat "$T/port")"
	sleep 0.5
	sd_tls_ok
	sd_stop
	if grep -E "closing: error|lib\(0\)|reason\(5\)" "$T/log"; then
		atf_fail "a reset connection logs an error"
	fi
	grep -q "frontend.*127.0.0.1:$(cat "$T/port"): closed" "$T/log" ||
	    atf_fail "no debug line names the peer: $(cat "$T/log")"
}
reset_quiet_cleanup()
{
	sd_cleanup
}

# The unit as `make install` writes it, with the built programs for
# the installed ones (verify checks that they exist).
unit_here()
{
	command -v systemd-analyze >/dev/null ||
	    atf_skip "no systemd-analyze"
	need_top
	mkdir -p unit
	sed -e "s|/usr/local/sbin|$BIN|g" \
	    -e "s|/usr/local/libexec/signerd|$BIN|g" \
	    "$TOP/etc/signerd.service" >unit/signerd.service
}

atf_test_case systemd_verify
systemd_verify_head()
{
	atf_set "descr" "systemd-analyze verify accepts etc/signerd.service"
}
systemd_verify_body()
{
	unit_here
	systemd-analyze verify --man=no "$PWD/unit/signerd.service" \
	    >out 2>&1 || atf_fail "verify: $(cat out)"
	[ -s out ] && atf_fail "verify says: $(cat out)"
	# The traps of issue 12.
	for bad in '^StateDirectory=' '^ReadWritePaths=.*/run' '^User='; do
		grep -q "$bad" unit/signerd.service &&
		    atf_fail "the unit has $bad"
	done
	grep -q '^RuntimeDirectory=signerd$' unit/signerd.service ||
	    atf_fail "no RuntimeDirectory for the control socket"
	# Which the daemon uses by default.
	echo "user root" >min.conf
	"$BIN/signerd" -nv -f min.conf 2>/dev/null |
	    grep -q '^control socket "/var/run/signerd/signerd.sock"$' ||
	    atf_fail "the default control socket is not in /var/run/signerd"
	return 0
}

atf_test_case systemd_security
systemd_security_head()
{
	atf_set "descr" "systemd-analyze security: exposure at most 3.0"
}
systemd_security_body()
{
	unit_here
	systemd-analyze security --offline=true --threshold=30 \
	    "$PWD/unit/signerd.service" >out 2>&1
	rc=$?
	grep -q "unrecognized option\|Unknown option" out &&
	    atf_skip "systemd-analyze security has no --offline"
	cat out
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' out)
	[ -n "$score" ] || atf_fail "no exposure level"
	[ $rc -eq 0 ] || atf_fail "exposure $score is over 3.0"
	echo "exposure $score"
}

atf_test_case deb cleanup
deb_head()
{
	atf_set "descr" "make deb builds a package that installs, runs " \
	    "from the installed paths and purges cleanly"
	atf_set "require.user" "root"
	atf_set "timeout" "900"
}
deb_body()
{
	need_top
	for t in dpkg-buildpackage dh dpkg; do
		command -v $t >/dev/null || atf_skip "no $t (make deps)"
	done
	dpkg-query -W -f '${db:Status-Status}' signerd 2>/dev/null |
	    grep -q installed && atf_skip "a signerd package is installed"
	for f in /usr/sbin/signerd /var/lib/signerd; do
		[ -e "$f" ] && atf_skip "$f exists already: not ours to purge"
	done
	sd_setup t1
	for u in _signerd _signerd_hsm; do
		id "$u" >/dev/null 2>&1 || echo "$u" >>"$T/newusers"
	done
	[ -d /var/empty ] || : >"$T/newempty"
	make -C "$TOP" O="$T/o" deb >"$T/build.log" 2>&1 ||
	    atf_fail "make deb: $(tail -n 30 "$T/build.log")"
	deb=$(ls "$T"/o/deb/signerd_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || atf_fail "no .deb made"
	echo installed >"$T/deb-installed"
	dpkg -i "$deb" >"$T/dpkg.log" 2>&1 ||
	    atf_fail "dpkg -i: $(cat "$T/dpkg.log")"

	dpkg-query -W -f '${Conffiles}\n' signerd |
	    grep -q '^ /etc/signerd/signerd.conf ' ||
	    atf_fail "/etc/signerd/signerd.conf is not a conffile"
	for f in /usr/sbin/signerd /usr/sbin/signerctl \
	    /usr/libexec/signerd/signerd-frontend \
	    /usr/libexec/signerd/signerd-hsm \
	    /usr/share/man/man8/signerd.8.gz \
	    /usr/share/man/man8/signerctl.8.gz \
	    /usr/share/man/man5/signerd.conf.5.gz \
	    /lib/systemd/system/signerd.service; do
		[ -f "$f" ] || atf_fail "$f is not installed"
	done
	zcat /usr/share/man/man8/signerd.8.gz | grep -q /usr/local &&
	    atf_fail "signerd(8) names /usr/local"
	grep -q /usr/local /lib/systemd/system/signerd.service &&
	    atf_fail "the unit names /usr/local"
	id _signerd >/dev/null && id _signerd_hsm >/dev/null ||
	    atf_fail "the users were not made"
	[ "$(stat -c '%U %a' /var/lib/signerd)" = "_signerd 700" ] ||
	    atf_fail "/var/lib/signerd: $(stat -c '%U %a' /var/lib/signerd)"
	[ -d /var/empty ] || atf_fail "no /var/empty"

	# The installed programs, on the default keystore and helpers.
	sd_conf t1
	sed -i '/^keystore /d' "$T/signerd.conf"
	unset SIGNERD_LIBEXEC
	BIN=/usr/sbin
	/usr/sbin/signerd -n -f "$T/signerd.conf" >"$T/n.out" 2>&1 &&
	    grep -q "configuration OK" "$T/n.out" ||
	    atf_fail "signerd -n: $(cat "$T/n.out")"
	/usr/sbin/signerd -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	sd_wait_ready 1
	[ "$(readlink "/proc/$(sd_pid frontend)/exe")" = \
	    /usr/libexec/signerd/signerd-frontend ] ||
	    atf_fail "the frontend does not run from /usr/libexec/signerd"
	timeout 60 /usr/bin/python3 \
	    /usr/share/doc/signerd/examples/kmip-demo.py -p $PORT \
	    -c "$T/pki/client.crt" -k "$T/pki/client.key" -C "$T/pki/ca.crt" \
	    --no-hsm >"$T/demo" 2>&1 ||
	    atf_fail "kmip-demo.py: $(cat "$T/demo")"
	[ -f /var/lib/signerd/keystore.db ] ||
	    atf_fail "no keystore in /var/lib/signerd"
	sd_stop
	if command -v systemd-analyze >/dev/null; then
		systemd-analyze verify --man=no \
		    /lib/systemd/system/signerd.service >"$T/verify" 2>&1 ||
		    atf_fail "verify: $(cat "$T/verify")"
		[ -s "$T/verify" ] && atf_fail "verify: $(cat "$T/verify")"
	fi

	dpkg --purge signerd >"$T/purge.log" 2>&1 ||
	    atf_fail "dpkg --purge: $(cat "$T/purge.log")"
	rm -f "$T/deb-installed"
	for f in /usr/sbin/signerd /usr/libexec/signerd /var/lib/signerd \
	    /etc/signerd /lib/systemd/system/signerd.service; do
		[ -e "$f" ] && atf_fail "$f is left after purge"
	done
	deb_undo
}
# What the package made that purge leaves: the users (Debian policy).
deb_undo()
{
	if [ -f "$T/deb-installed" ]; then
		dpkg --purge signerd >/dev/null 2>&1
		rm -f "$T/deb-installed"
	fi
	if [ -f "$T/newusers" ]; then
		for u in $(cat "$T/newusers"); do
			userdel "$u" 2>/dev/null
			groupdel "$u" 2>/dev/null
		done
		rm -f "$T/newusers"
	fi
	[ -f "$T/newempty" ] && rmdir /var/empty 2>/dev/null
	return 0
}
deb_cleanup()
{
	[ -f statedir ] && T=$(cat statedir) && deb_undo
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case deb
	atf_add_test_case systemd_verify
	atf_add_test_case systemd_security
	atf_add_test_case quickstart
	atf_add_test_case shutdown_quiet
	atf_add_test_case reset_quiet
}
