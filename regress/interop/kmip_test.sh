#! /usr/bin/env atf-sh
#
# KMIP end to end: an independent client (Debian's PyKMIP, which only
# /usr/bin/python3 has) and hand-made bad input against the real daemon.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

kmip_start()
{
	sd_setup s1
	sd_conf s1
	# Short enough for a test, long enough for a slow machine.
	echo "read timeout 3" >>"$T/signerd.conf"
	sd_start 1
}

atf_test_case pykmip_basic cleanup
pykmip_basic_head()
{
	atf_set "descr" "PyKMIP: Discover Versions, Query, errors"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
pykmip_basic_body()
{
	kmip_start
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/pykmip_basic.py" $PORT "$T/pki"
	sd_stop
}
pykmip_basic_cleanup()
{
	sd_cleanup
}

# bad_case NAME EXPECTED: one case of badinput.py.
bad_case()
{
	atf_check -o inline:"$2\n" -e ignore \
	    $PY "$(atf_get_srcdir)/badinput.py" $PORT "$T/pki" "$1"
}

atf_test_case pykmip_ops cleanup
pykmip_ops_head()
{
	atf_set "descr" "PyKMIP: keys, lifecycle, signatures verified" \
	    "independently"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
pykmip_ops_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/pykmip_ops.py" $PORT "$T/pki"
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/gcm.py" $PORT "$T/pki"
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/register.py" $PORT "$T/pki"
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/coverage.py" $PORT "$T/pki"
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/keyparams.py" $PORT "$T/pki"
	sd_stop
}
pykmip_ops_cleanup()
{
	sd_cleanup
}

atf_test_case params cleanup
params_head()
{
	atf_set "descr" "KMIP 1.4 key parameters on the openssl signer:" \
	    "Digested Data, Salt Length, MGF1 hash, OAEP SHA-1 and label"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
params_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/prehash.py" $PORT "$T/pki" soft
	sd_stop
}
params_cleanup()
{
	sd_cleanup
}

atf_test_case client_replay cleanup
client_replay_head()
{
	atf_set "descr" "Krill's and Cascade's exact message shapes"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
client_replay_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	for who in krill cascade; do
		atf_check -o match:"^ok" -e ignore $PY \
		    "$(atf_get_srcdir)/client_replay.py" $PORT "$T/pki" $who
	done
	sd_stop
}
client_replay_cleanup()
{
	sd_cleanup
}

atf_test_case owners cleanup
owners_head()
{
	atf_set "descr" "another identity cannot see or use an object"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
owners_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	atf_check -o match:"^ok" -e ignore $PY \
	    "$(atf_get_srcdir)/owners.py" $PORT "$T/pki"
	sd_stop
}
owners_cleanup()
{
	sd_cleanup
}

atf_test_case durability cleanup
durability_head()
{
	atf_set "descr" "kill -9 of the whole daemon during a stream of" \
	    "creates loses nothing that was acknowledged"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
durability_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	$PY "$(atf_get_srcdir)/durable.py" $PORT "$T/pki" create "$T/acked" \
	    2>"$T/client.log" &
	client=$!
	sleep 3
	pids=$(sd_ctl show status | awk 'NR > 1 { print $3 }')
	kill -9 $pids
	wait $client
	n=$(wc -l <"$T/acked")
	echo "$n key pairs acknowledged before kill -9"
	[ "$n" -gt 10 ] || atf_fail "only $n creates in 3 s"
	sd_start 2
	atf_check -o match:"^ok $n\$" -e ignore $PY \
	    "$(atf_get_srcdir)/durable.py" $PORT "$T/pki" check "$T/acked"
	sd_stop
}
durability_cleanup()
{
	sd_cleanup
}

atf_test_case bad_input cleanup
bad_input_head()
{
	atf_set "descr" "bad input gets an error or a closed connection," \
	    "and the next client is served"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
bad_input_body()
{
	kmip_start
	# Result Reason 4 is Invalid Message, 5 Operation Not Supported.
	bad_case huge closed
	bad_case garbage closed
	bad_case wrongtype "error 4"
	bad_case badpadding "error 4"
	bad_case unsupported "error 5"
	bad_case pipelined "0 0 1"
	bad_case truncated closed
	grep -q "timed out" "$T/log" || atf_fail "stalled client not timed out"
	[ "$(sd_pid frontend)" ] || atf_fail "frontend gone"
	sd_stop
}
bad_input_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case pykmip_basic
	atf_add_test_case pykmip_ops
	atf_add_test_case params
	atf_add_test_case client_replay
	atf_add_test_case owners
	atf_add_test_case durability
	atf_add_test_case bad_input
}
