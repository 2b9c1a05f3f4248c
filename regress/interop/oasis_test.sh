#! /usr/bin/env atf-sh
#
# The OASIS KMIP 1.4 Profiles test vectors (issue 10), replayed by
# oasis.py against the real daemon with the software signer as default.
# Every vector listed in oasis.expected must pass; the others are
# replayed too and their results shown, so the list can grow.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

atf_test_case vectors cleanup
vectors_head()
{
	atf_set "descr" "The OASIS KMIP 1.4 profile vectors in oasis.expected" \
	    "pass"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "400"
}
vectors_body()
{
	sd_setup
	sd_conf
	sd_conf_soft
	sd_start 1

	V=$(atf_get_srcdir)/../kmip-testcases/v1.4
	# kyua debug -v files="TL-M-1 TL-M-3" oasis_test.sh:vectors replays
	# those alone, in that order, with the replayer's -v trace.
	set -- "$V"/mandatory/*.xml "$V"/optional/*.xml
	if atf_config_has files; then
		set -- -v
		for f in $(atf_config_get files); do
			set -- "$@" "$V"/*/"$f"-14.xml
		done
	fi
	# Bounded: the replayer's own socket timeouts, and this.
	timeout -k 5 300 $PY "$(atf_get_srcdir)/oasis.py" $PORT "$T/pki" \
	    "$@" >"$T/oasis.out" 2>&1 ||
	    { cat "$T/oasis.out"; atf_fail "oasis.py did not finish"; }
	cat "$T/oasis.out"
	sd_stop

	# A chosen few: nothing to hold them to.
	atf_config_has files && return 0
	bad=""
	while read -r f; do
		case $f in
		""|"#"*)	continue ;;
		esac
		grep -q "^PASS $f:" "$T/oasis.out" || bad="$bad $f"
	done <"$(atf_get_srcdir)/oasis.expected"
	[ -z "$bad" ] || atf_fail "regressed:$bad"
}
vectors_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case vectors
}
