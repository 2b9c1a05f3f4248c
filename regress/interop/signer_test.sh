#! /usr/bin/env atf-sh
#
# Signer children that hang or die: per-operation deadlines, held
# requests, the parent's liveness checks and restarts (issue 7, item 7).
# Two software signers with "timeout 2", so that one can be shown
# unaffected while the other hangs.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

signer_start()
{
	sd_setup
	sd_conf
	for s in soft other; do
		(umask 077; head -c 32 /dev/urandom >"$T/$s.kek")
		cat >>"$T/signerd.conf" <<EOT
signer "$s" openssl {
	kek file "$T/$s.kek"
	timeout 2
}
EOT
	done
	echo 'default signer "soft"' >>"$T/signerd.conf"
	sd_start 2
}

# Kill what a test stopped, by pid: the parent may not have yet.
signer_cleanup()
{
	if [ -f statedir ] && [ -f "$(cat statedir)/stopped" ]; then
		for p in $(cat "$(cat statedir)/stopped"); do
			if grep -q signer "/proc/$p/cmdline" 2>/dev/null; then
				kill -9 "$p" 2>/dev/null
				kill -CONT "$p" 2>/dev/null
			fi
		done
	fi
	sd_cleanup
}

atf_test_case stall cleanup
stall_head()
{
	atf_set "descr" "a stopped signer: KMIP error within its timeout," \
	    "the other signer unaffected, restart, then Sign works"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
stall_body()
{
	signer_start
	# Bounded even against a signerd that never answers.
	timeout 60 $PY "$(atf_get_srcdir)/signer_hung.py" $PORT "$T/pki" \
	    "$SIGNERCTL" "$T/signerd.conf" "$T" stall >"$T/out" 2>"$T/err"
	rc=$?
	cat "$T/out"
	grep -v "^Config file" "$T/err" >&2
	[ $rc -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "$(grep FAIL "$T/out" | tr '\n' ' ')(status $rc)"
	sd_record_pids
	grep -q "killing it" "$T/log" ||
	    atf_fail "the parent did not log the kill of the hung signer"
	sd_stop
}
stall_cleanup()
{
	signer_cleanup
}

atf_test_case killed cleanup
killed_head()
{
	atf_set "descr" "kill -9 of a signer then Sign at once: the Sign" \
	    "is held and succeeds once the signer is back"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "60"
}
killed_body()
{
	signer_start
	timeout 30 $PY "$(atf_get_srcdir)/signer_hung.py" $PORT "$T/pki" \
	    "$SIGNERCTL" "$T/signerd.conf" "$T" kill >"$T/out" 2>"$T/err"
	rc=$?
	cat "$T/out"
	grep -v "^Config file" "$T/err" >&2
	[ $rc -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "$(grep FAIL "$T/out" | tr '\n' ' ')(status $rc)"
	sd_record_pids
	sd_stop
}
killed_cleanup()
{
	signer_cleanup
}

atf_test_case liveness cleanup
liveness_head()
{
	atf_set "descr" "a stopped signer with no request in flight fails" \
	    "the parent's liveness check and is restarted"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
liveness_body()
{
	signer_start
	pid=$(sd_pid signer soft)
	other=$(sd_pid signer other)
	echo "$pid" >>"$T/stopped"
	kill -STOP "$pid"
	state=$(sd_field soft 5)
	[ "$state" = hung ] || [ "$state" = restarting ] ||
	    atf_fail "a stopped signer is shown as $state"
	start=$(date +%s)
	while :; do
		new=$(sd_field soft 3)
		if [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$pid" ] &&
		    [ "$(sd_field soft 5)" = ready ]; then
			break
		fi
		[ $(($(date +%s) - start)) -lt 10 ] ||
		    atf_fail "not restarted within 10 s (state $(sd_field soft 5))"
		sleep 0.2
	done
	echo "$new" >>"$T/pids"
	echo "stopped pid $pid shown $state, restarted as $new after" \
	    "$(($(date +%s) - start)) s"
	[ "$(sd_field soft 6)" = 1 ] || atf_fail "restarts not counted"
	[ "$(sd_pid signer other)" = "$other" ] ||
	    atf_fail "the other signer was restarted too"
	grep -q "soft.*did not answer its liveness check" "$T/log" ||
	    atf_fail "no log line for the kill"
	sd_stop
}
liveness_cleanup()
{
	signer_cleanup
}

atf_test_case malformed_results cleanup
malformed_results_head()
{
	atf_set "descr" "a signer that sends malformed IMSG_HSM_RESULTS" \
	    "(cut short, a length beyond the message, a record of another" \
	    "type, too many records): the engine takes the good first" \
	    "record, refuses the rest and keeps running"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "60"
}
malformed_results_body()
{
	sd_setup fake
	sd_conf fake
	echo 'default signer "fake"' >>"$T/signerd.conf"
	# signerd, its frontend, and regress/hsmproc/fakehsm as the signer.
	mkdir "$T/libexec"
	ln -s "$BIN/signerd-frontend" "$T/libexec/signerd-frontend"
	ln -s "$(atf_get_srcdir)/../hsmproc/fakehsm" "$T/libexec/signerd-hsm"
	SIGNERD_LIBEXEC=$T/libexec sd_start 1
	ENGINE=$(sd_pid engine)
	[ -n "$ENGINE" ] || atf_fail "no engine pid"
	atf_check -o match:"^ok" -e ignore $PY \
	    "$(atf_get_srcdir)/engine.py" $PORT "$T/pki" fake_answers
	[ "$(sd_pid engine)" = "$ENGINE" ] ||
	    atf_fail "the engine restarted: $(grep -i fatal "$T/log")"
	[ "$(grep -c "signer fake: malformed IMSG_HSM_RESULTS" "$T/log")" \
	    -eq 4 ] || atf_fail "not 4 refusals: $(grep -i malformed "$T/log")"
	sd_stop
}
malformed_results_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case stall
	atf_add_test_case killed
	atf_add_test_case liveness
	atf_add_test_case malformed_results
}
