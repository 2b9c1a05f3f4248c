#! /usr/bin/env atf-sh
#
# The engine under attack by an authenticated client: answers too large
# for the channel, objects that grow without bound, objects damaged in
# the keystore.  The engine must answer each with a KMIP error and keep
# running: its pid is the same before and after.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# eng CASE [ARG...]: one case of engine.py, which prints "ok ..." or fails.
eng()
{
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/engine.py" $PORT "$T/pki" "$@"
}

# The engine's pid must not have changed since ENGINE was set.
engine_same()
{
	[ "$(sd_pid engine)" = "$ENGINE" ] ||
	    atf_fail "the engine restarted ($ENGINE, now $(sd_pid engine)):" \
	    "$(grep -i fatal "$T/log" | head -n 3)"
}

eng_start()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	ENGINE=$(sd_pid engine)
	[ -n "$ENGINE" ] || atf_fail "no engine pid"
}

atf_test_case oversized_answer cleanup
oversized_answer_head()
{
	atf_set "descr" "1,900 Locate items answering over 2 MiB get" \
	    "Response Too Large; the engine stays up"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
oversized_answer_body()
{
	eng_start
	# 30 objects: each Locate answers ~1.5 KB, 1,900 of them ~2.8 MB.
	eng setup 30
	eng locate_flood
	engine_same
	eng max_response
	eng creates
	engine_same
	sd_stop
}
oversized_answer_cleanup()
{
	sd_cleanup
}

atf_test_case locate_big cleanup
locate_big_head()
{
	atf_set "descr" "Locate looks at every candidate, not the oldest" \
	    "1,024, and a long Locate yields to other clients"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
locate_big_body()
{
	eng_start
	eng locate_big
	engine_same
	sd_stop
}
locate_big_cleanup()
{
	sd_cleanup
}

atf_test_case attribute_flood cleanup
attribute_flood_head()
{
	atf_set "descr" "Add Attribute in a loop is refused at the limit"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
attribute_flood_body()
{
	eng_start
	eng add_attribute_flood
	engine_same
	sd_stop
}
attribute_flood_cleanup()
{
	sd_cleanup
}

atf_test_case sign_after_change cleanup
sign_after_change_head()
{
	atf_set "descr" "A key the engine keeps in memory: Add and Modify" \
	    "Attribute, Revoke and Destroy, in the same batch or the next," \
	    "are seen by the next Sign"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
sign_after_change_body()
{
	eng_start
	eng sign_changes
	engine_same
	sd_stop
}
sign_after_change_cleanup()
{
	sd_cleanup
}

atf_test_case damaged_object cleanup
damaged_object_head()
{
	atf_set "descr" "Objects damaged in the keystore are errors for" \
	    "themselves alone, listed and destroyed by signerctl"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 sqlite3"
}
damaged_object_body()
{
	sd_setup s1
	sd_conf s1
	sd_start 1
	eng setup 2
	sd_stop
	# Written behind the daemon's back, as a damaged disk or an old
	# signerd would have: > 10,000 items, and bytes that are not TTLV.
	ids="dead0001-0000-4000-8000-000000000001"
	ids="$ids dead0002-0000-4000-8000-000000000002"
	$PY "$(atf_get_srcdir)/engine.py" 0 "$T/pki" sql $ids >"$T/poison.sql"
	db=$T/db/keystore.db
	sqlite3 "$db" <"$T/poison.sql" || atf_fail "sqlite3"
	chown "$(stat -c %u:%g "$db")" "$T"/db/* 2>/dev/null
	sd_start 1
	ENGINE=$(sd_pid engine)
	eng damaged $ids
	engine_same
	atf_check -o save:"$T/damaged" $SIGNERCTL show damaged
	for id in $ids; do
		grep -q "^$id alice .*decode\|^$id alice .*attributes" \
		    "$T/damaged" || atf_fail "$id not shown: $(cat "$T/damaged")"
	done
	for id in $ids; do
		atf_check -o match:"destroyed" $SIGNERCTL destroy $id
	done
	atf_check -o inline:"$(head -n 1 "$T/damaged")\n" \
	    $SIGNERCTL show damaged
	atf_check -s exit:1 -e match:"no object" \
	    $SIGNERCTL destroy dead0003-0000-4000-8000-000000000003
	eng destroyed $ids
	engine_same
	sd_stop
}
damaged_object_cleanup()
{
	sd_cleanup
}

atf_test_case engine_busy cleanup
engine_busy_head()
{
	atf_set "descr" "Requests piling up behind a stopped signer: beyond" \
	    "the engine's bound a request is answered \"server busy\" at once"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
engine_busy_body()
{
	eng_start
	$PY "$(atf_get_srcdir)/engine.py" $PORT "$T/pki" key >"$T/key" ||
	    atf_fail "no key: $(cat "$T/key")"
	key=$(awk '{ print $2 }' "$T/key")
	soft=$(sd_pid signer soft)
	[ -n "$soft" ] || atf_fail "no soft signer pid"
	kill -STOP $soft
	eng busy $key
	kill -CONT $soft
	engine_same
	eng creates
	sd_stop
}
engine_busy_cleanup()
{
	[ -f statedir ] && T=$(cat statedir) &&
	    for p in $(cat "$T/pids" 2>/dev/null); do
		kill -CONT $p 2>/dev/null
	    done
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case oversized_answer
	atf_add_test_case locate_big
	atf_add_test_case attribute_flood
	atf_add_test_case sign_after_change
	atf_add_test_case damaged_object
	atf_add_test_case engine_busy
}
