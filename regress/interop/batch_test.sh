#! /usr/bin/env atf-sh
#
# The items of one Request Message that only read and name their object
# run together in the engine: 16 Sign items reach the signer at once and
# are answered in request order; writes, the ID Placeholder and Stop,
# Continue and Undo work as before; closed connections, a stopped and a
# killed signer with items in flight leave the engine running (its pid is
# the same before and after).  The daemon runs with -v: the engine logs
# "request N: M items in flight" when it sent items together, which shows
# the concurrency without measuring time.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# b CASE [ARG...]: one case of batch.py, which prints "ok ..." or fails.
b()
{
	atf_check -o match:"^ok" -e ignore \
	    timeout 60 $PY "$(atf_get_srcdir)/batch.py" $PORT "$T/pki" "$@"
}

# b_start [TIMEOUT]: a software signer "soft", the default, with that
# timeout if given; a signing key in $KEY.
b_start()
{
	sd_setup
	sd_conf
	if [ $# -eq 0 ]; then
		sd_conf_soft
	else
		(umask 077; head -c 32 /dev/urandom >"$T/kek")
		cat >>"$T/signerd.conf" <<EOT
signer "soft" openssl {
	kek file "$T/kek"
	timeout $1
}
default signer "soft"
EOT
	fi
	"$BIN/signerd" -d -v -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	sd_wait_ready 1
	ENGINE=$(sd_pid engine)
	[ -n "$ENGINE" ] || atf_fail "no engine pid"
	timeout 60 $PY "$(atf_get_srcdir)/batch.py" $PORT "$T/pki" key \
	    >"$T/key" 2>&1 || atf_fail "no key: $(cat "$T/key")"
	KEY=$(awk '{ print $2 }' "$T/key")
}

# The engine's pid must not have changed since b_start.
engine_same()
{
	[ "$(sd_pid engine)" = "$ENGINE" ] ||
	    atf_fail "the engine restarted ($ENGINE, now $(sd_pid engine)):" \
	    "$(grep -i 'fatal\|sanitizer' "$T/log" | head -n 3)"
}

# in_flight N: the engine logged N items of one message in flight.
in_flight()
{
	grep -q "request [0-9]*: $1 items in flight" "$T/log" ||
	    atf_fail "no request with $1 items in flight:" \
	    "$(grep 'items in flight' "$T/log" | tail -n 3 | tr '\n' ' ')"
}

atf_test_case sign16 cleanup
sign16_head()
{
	atf_set "descr" "16 Sign items in one message go to the signer" \
	    "together and are answered in order, each verifying"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
sign16_body()
{
	b_start
	b sign16 $KEY
	in_flight 16
	# To the signer in one message, answered in one (IMSG_HSM_OPS,
	# IMSG_HSM_RESULTS).
	grep -q "signer [a-z0-9]*: 16 requests in one message" "$T/log" ||
	    atf_fail "16 Sign items not sent to the signer together"
	grep -q "16 answers in one message" "$T/log" ||
	    atf_fail "16 Sign items not answered together"
	# Get, two Signature Verify, Get Attributes and Sign: 4 wait for
	# the signer together (Get Attributes is answered at once).
	in_flight 4
	engine_same
	sd_stop
}
sign16_cleanup()
{
	sd_cleanup
}

atf_test_case placeholder cleanup
placeholder_head()
{
	atf_set "descr" "Sign, Create Key Pair, Activate and Sign by the ID" \
	    "Placeholder, Sign; a Sign after an Activate sees the key active"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
placeholder_body()
{
	b_start
	b placeholder $KEY
	engine_same
	sd_stop
}
placeholder_cleanup()
{
	sd_cleanup
}

atf_test_case stop_continue cleanup
stop_continue_head()
{
	atf_set "descr" "a failing item among Sign items running together:" \
	    "Stop ends the response at it, Continue and Undo answer all"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
stop_continue_body()
{
	b_start
	b stop $KEY
	# The Sign items after the failing one were in flight beside it.
	in_flight 9
	engine_same
	sd_stop
}
stop_continue_cleanup()
{
	sd_cleanup
}

atf_test_case closed cleanup
closed_head()
{
	atf_set "descr" "connections closed with batches in flight, the" \
	    "signer stopped then running: the engine stays up and serves"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
closed_body()
{
	b_start
	soft=$(sd_pid signer soft)
	[ -n "$soft" ] || atf_fail "no soft signer pid"
	echo $soft >"$T/stopped"
	kill -STOP $soft
	b close $KEY
	kill -CONT $soft
	# And again with the signer running.
	b close $KEY
	b wait $KEY
	in_flight 16
	engine_same
	sd_stop
}
closed_cleanup()
{
	[ -f statedir ] && T=$(cat statedir) &&
	    for p in $(cat "$T/stopped" 2>/dev/null); do
		kill -CONT $p 2>/dev/null
	    done
	sd_cleanup
}

atf_test_case signer_killed cleanup
signer_killed_head()
{
	atf_set "descr" "kill -9 of the signer with 16 items of a batch in" \
	    "flight: they are held, sent again to the new signer, all answered"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
signer_killed_body()
{
	b_start
	soft=$(sd_pid signer soft)
	[ -n "$soft" ] || atf_fail "no soft signer pid"
	echo $soft >"$T/stopped"
	kill -STOP $soft
	timeout 60 $PY "$(atf_get_srcdir)/batch.py" $PORT "$T/pki" wait $KEY \
	    >"$T/out" 2>&1 &
	client=$!
	# The items reach the stopped signer (or, if not yet, are held for
	# the new one): either way all 16 are sent again after the restart.
	i=0
	while ! grep -q "items in flight" "$T/log" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 $soft
	wait $client
	rc=$?
	[ $rc -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "$(cat "$T/out") (status $rc)"
	sd_wait_ready 1
	n=$(grep -c "item [0-9]* sent to signer soft after holding" "$T/log")
	[ "$n" -ge 16 ] || atf_fail "$n items sent again, not 16"
	engine_same
	sd_stop
}
signer_killed_cleanup()
{
	[ -f statedir ] && T=$(cat statedir) &&
	    for p in $(cat "$T/stopped" 2>/dev/null); do
		kill -CONT $p 2>/dev/null
	    done
	sd_cleanup
}

atf_test_case removed cleanup
removed_head()
{
	atf_set "descr" "the signer removed by a reload while batches wait" \
	    "for it: Stop answers the first item, Continue all 8, in order," \
	    "each failing with the reason"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
	atf_set "timeout" "120"
}
removed_body()
{
	# Its timeout is long: neither the items' deadlines nor the
	# parent's liveness check come before the reload.
	b_start 10
	soft=$(sd_pid signer soft)
	[ -n "$soft" ] || atf_fail "no soft signer pid"
	echo $soft >"$T/stopped"
	kill -STOP $soft
	timeout 60 $PY "$(atf_get_srcdir)/batch.py" $PORT "$T/pki" removed \
	    $KEY >"$T/out" 2>&1 &
	client=$!
	i=0
	while [ "$(grep -c ': 8 items in flight' "$T/log")" -lt 2 ] &&
	    [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ $i -lt 100 ] || atf_fail "the batches did not reach the engine"
	sd_conf
	atf_check -o ignore -e ignore $SIGNERCTL reload
	wait $client
	rc=$?
	[ $rc -eq 0 ] && grep -q "^ok" "$T/out" ||
	    atf_fail "$(cat "$T/out") (status $rc)"
	engine_same
	sd_stop
}
removed_cleanup()
{
	[ -f statedir ] && T=$(cat statedir) &&
	    for p in $(cat "$T/stopped" 2>/dev/null); do
		kill -9 $p 2>/dev/null
		kill -CONT $p 2>/dev/null
	    done
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case sign16
	atf_add_test_case placeholder
	atf_add_test_case stop_continue
	atf_add_test_case closed
	atf_add_test_case signer_killed
	atf_add_test_case removed
}
