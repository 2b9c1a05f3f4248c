#! /usr/bin/env atf-sh
#
# signerctl for scripts and monitoring: -j on every show command and
# check, parsed by a real JSON parser; show metrics, parsed by an
# independent OpenMetrics parser, its counters moved by known requests.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# json_is FILE EXPECTED PYTHON: FILE is one JSON document d on one line,
# and the expression on d is EXPECTED.
json_is()
{
	[ "$(wc -l <"$1")" -eq 1 ] || atf_fail "$1: not one line"
	got=$($PY -c 'import json, sys
d = json.loads(open(sys.argv[1]).read())
print(eval(sys.argv[2]))' "$1" "$3") || atf_fail "$1: $(cat "$1")"
	[ "$got" = "$2" ] || atf_fail "$1: \"$got\", not \"$2\": $(cat "$1")"
}

atf_test_case json cleanup
json_head()
{
	atf_set "descr" "signerctl -j: show status, show signers (detail)," \
	    "show damaged and check as JSON documents of one schema"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 sqlite3"
}
json_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	sd_stop
	# An object that does not load, for show damaged.
	id=dead0001-0000-4000-8000-000000000001
	$PY "$(atf_get_srcdir)/engine.py" 0 "$T/pki" sql $id >"$T/poison.sql"
	db=$T/db/keystore.db
	sqlite3 "$db" <"$T/poison.sql" || atf_fail "sqlite3"
	chown "$(stat -c %u:%g "$db")" "$T"/db/* 2>/dev/null
	sd_start 2

	sd_ctl -j show status >"$T/status.json" || atf_fail "show status"
	json_is "$T/status.json" "engine:None frontend:None parent:None s1:s1 soft:soft" \
	    '" ".join(sorted(
	    (p["name"] if p["kind"] == "signer" else p["kind"]) + ":" +
	    str(p["name"]) for p in d["processes"]))'
	json_is "$T/status.json" "True" \
	    'all(isinstance(p["pid"], int) and p["state"] == "running" and
	    isinstance(p["started"], int) and p["restarts"] == 0
	    for p in d["processes"])'

	sd_ctl -j show signers >"$T/signers.json" || atf_fail "show signers"
	json_is "$T/signers.json" "s1 pkcs11 ready running 4 True | soft openssl ready running None True" \
	    '" | ".join("%s %s %s %s %s %s" % (
	    s["name"], s["type"], s["state"], s["process"]["state"],
	    s["sessions"] and s["sessions"]["configured"],
	    isinstance(s["process"]["pid"], int))
	    for s in sorted(d["signers"], key=lambda s: s["name"]))'
	json_is "$T/signers.json" "False" \
	    '"token" in d["signers"][0]'

	sd_ctl -j show signers detail >"$T/detail.json" ||
	    atf_fail "show signers detail"
	json_is "$T/detail.json" "s1 s1 0 None | soft None 0 None" \
	    '" | ".join("%s %s %s %s" % (
	    s["name"], s["token"] and s["token"]["label"], s["keys"],
	    s["advice"])
	    for s in sorted(d["signers"], key=lambda s: s["name"]))'
	json_is "$T/detail.json" "True" \
	    'all(set(s) >= {"name", "type", "state", "detail", "process",
	    "sessions", "token", "keys", "requests", "errors", "latency",
	    "last_error", "advice"} and isinstance(s["requests"], int)
	    for s in d["signers"])'

	sd_ctl -j show damaged >"$T/damaged.json" || atf_fail "show damaged"
	json_is "$T/damaged.json" "$id alice Certificate Pre-Active True" \
	    '" ".join(str(x) for o in
	    d["damaged"] for x in (o["id"], o["owner"], o["type"],
	    o["state"], len(o["why"]) > 0))'

	sd_ctl -j check >"$T/check.json" || atf_fail "check: $(cat "$T/check.json")"
	json_is "$T/check.json" "True s1:True soft:True" \
	    'str(d["passed"]) + " " + " ".join(
	    "%s:%s" % (c["signer"], c["passed"] and all(
	    st["result"] == "pass" and isinstance(st["usec"], int)
	    for st in c["steps"])) for c in
	    sorted(d["checks"], key=lambda c: c["signer"]))'
	sd_ctl -j check soft >"$T/check1.json" || atf_fail "check soft"
	json_is "$T/check1.json" "soft" \
	    '" ".join(c["signer"] for c in d["checks"])'

	# An error is said on stderr, with nothing on stdout.
	atf_check -s exit:1 -o empty -e match:"nosuch" \
	    $SIGNERCTL -j check nosuch
	# Commands that change the daemon have no JSON form.
	atf_check -s exit:1 -e match:"no JSON form" $SIGNERCTL -j reload
	atf_check -s exit:1 -e match:"no JSON form" $SIGNERCTL -j show metrics
	sd_stop
}
json_cleanup()
{
	sd_cleanup
}

# metric FILE SAMPLE: the value of one sample, as ctl_metrics.py reads it.
metric()
{
	$PY "$(atf_get_srcdir)/ctl_metrics.py" "$1" "$2" | awk '{ print $NF }'
}

# metrics_are FILE 'SAMPLE VALUE'...: each sample has that value ("-":
# absent).
metrics_are()
{
	f=$1
	shift
	for want in "$@"; do
		s=${want% *}
		v=$(metric "$f" "$s")
		if [ "$v" != "${want##* }" ]; then
			cat "$f" >&2
			atf_fail "$s is $v, not ${want##* }"
		fi
	done
}

atf_test_case metrics cleanup
metrics_head()
{
	atf_set "descr" "signerctl show metrics: OpenMetrics that an" \
	    "independent parser reads, counting known requests, errors by" \
	    "reason, connections and signer states"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
metrics_body()
{
	$PY -c 'import prometheus_client.openmetrics.parser' ||
	    atf_fail "python3-prometheus-client is missing (etc/deps.sh)"
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
	sd_ctl show metrics >"$T/m0" || atf_fail "show metrics"
	tail -n 1 "$T/m0" | grep -qx "# EOF" || atf_fail "no # EOF"
	metrics_are "$T/m0" \
	    'signerd_requests_total{op=Sign,signer=soft} -' \
	    'signerd_signer_state{signer=s1,state=ready} 1' \
	    'signerd_signer_state{signer=s1,state=error} 0' \
	    'signerd_connections 0'

	atf_check -o match:"^ok " -e ignore \
	    $PY "$(atf_get_srcdir)/ctl_load.py" $PORT "$T/pki" 7
	# A handshake without a client certificate is refused.
	sd_tls
	sleep 0.3	# the frontend's counters follow within 100 ms
	sd_ctl show metrics >"$T/m1" || atf_fail "show metrics"
	metrics_are "$T/m1" \
	    'signerd_requests_total{op=Sign,signer=soft} 8' \
	    'signerd_request_errors_total{op=Sign,reason=Permission Denied,signer=soft} 1' \
	    'signerd_request_duration_seconds_count{op=Sign,signer=soft} 8' \
	    'signerd_requests_total{op=Create Key Pair,signer=soft} 1' \
	    'signerd_requests_total{op=Activate,signer=soft} 1' \
	    'signerd_request_errors_total{op=Get,reason=Item Not Found,signer=} 1' \
	    'signerd_requests_total{op=Get,signer=} 1' \
	    'signerd_connections_accepted_total 2' \
	    'signerd_handshakes 0' \
	    'signerd_connections_admitted_total 1' \
	    'signerd_connections 0' \
	    'signerd_keystore_objects 2' \
	    'signerd_signer_state{signer=soft,state=ready} 1'
	# The refused handshake counts once, as certificate or handshake.
	c=$(metric "$T/m1" 'signerd_connections_refused_total{reason=certificate}')
	h=$(metric "$T/m1" 'signerd_connections_refused_total{reason=handshake}')
	[ $((c + h)) -eq 1 ] || atf_fail "refused: $c + $h"
	[ "$(metric "$T/m1" 'signerd_keystore_size_bytes')" -gt 0 ] ||
	    atf_fail "keystore bytes"

	sd_stop
}
metrics_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case json
	atf_add_test_case metrics
}
