#! /usr/bin/env atf-sh
#
# KMIP over HTTPS on the TLS port, in the TTLV, JSON and XML encodings
# (issue 10): what a client gets, and what a hostile one gets.  Each
# case starts the real daemon on 127.0.0.1 (read timeout 3 s, max
# message 16384) and checks that the frontend it started still runs.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

me_start()
{
	sd_setup
	sd_conf
	sd_conf_soft
	[ -z "${ME_LISTEN:-}" ] ||
	    sed -i "/client ca/a\\
$ME_LISTEN" "$T/signerd.conf"
	echo "read timeout 3" >>"$T/signerd.conf"
	echo "max message 16384" >>"$T/signerd.conf"
	sd_start 1
	FE=$(sd_pid frontend)
}

# me_case CASE: msgenc_cases.py CASE must print ok, and the frontend
# must be the one started.
me_case()
{
	me_start
	atf_check -o match:"^ok" -e ignore timeout -k 5 90 \
	    $PY "$(atf_get_srcdir)/msgenc_cases.py" $PORT "$T/pki" "$1"
	[ "$(sd_pid frontend)" = "$FE" ] ||
	    atf_fail "the frontend was restarted"
	sd_stop
}

atf_test_case serve cleanup
serve_head()
{
	atf_set "descr" "TTLV, JSON and XML over HTTPS on one connection, pipelined, Connection: close, names or hex"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
serve_body()
{
	me_case serve
}
serve_cleanup()
{
	sd_cleanup
}

atf_test_case head cleanup
head_head()
{
	atf_set "descr" "an oversized head, too many fields, a NUL, another method, path or version get 431, 400, 405, 404, 505"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
head_body()
{
	me_case head
}
head_cleanup()
{
	sd_cleanup
}

atf_test_case length cleanup
length_head()
{
	atf_set "descr" "no, a chunked, a repeated, an overflowing or too large Content-Length gets 411, 400 or 413"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
length_body()
{
	me_case length
}
length_cleanup()
{
	sd_cleanup
}

atf_test_case ctype cleanup
ctype_head()
{
	atf_set "descr" "a wrong or missing Content-Type gets 415, a body that is not one message 400"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
ctype_body()
{
	me_case ctype
}
ctype_cleanup()
{
	sd_cleanup
}

atf_test_case slowloris cleanup
slowloris_head()
{
	atf_set "descr" "a head sent a byte at a time is closed at the read timeout"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
slowloris_body()
{
	me_case slowloris
}
slowloris_cleanup()
{
	sd_cleanup
}

atf_test_case nesting cleanup
nesting_head()
{
	atf_set "descr" "JSON, XML and KMIP structures nested too deep are refused"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
nesting_body()
{
	me_case nesting
}
nesting_cleanup()
{
	sd_cleanup
}

atf_test_case laughs cleanup
laughs_head()
{
	atf_set "descr" "billion laughs, an external entity and an undeclared one are refused"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
laughs_body()
{
	me_case laughs
}
laughs_cleanup()
{
	sd_cleanup
}

atf_test_case owner cleanup
owner_head()
{
	atf_set "descr" "a JSON or XML request for another identity's object finds nothing"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
owner_body()
{
	me_case owner
}
owner_cleanup()
{
	sd_cleanup
}

atf_test_case nohttp cleanup
nohttp_head()
{
	atf_set "descr" "a listener with no http closes HTTP and serves TTLV"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
nohttp_body()
{
	ME_LISTEN="no http" me_case nohttp
}
nohttp_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case serve
	atf_add_test_case head
	atf_add_test_case length
	atf_add_test_case ctype
	atf_add_test_case slowloris
	atf_add_test_case nesting
	atf_add_test_case laughs
	atf_add_test_case owner
	atf_add_test_case nohttp
}
