#! /usr/bin/env atf-sh
#
# The OASIS KMIP 1.4 Profiles test vectors (issue 10), replayed by
# oasis.py against the real daemon with the software signer as default.
# Every vector listed in oasis.expected must pass; the others are
# replayed too and their results shown, so the list can grow.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# extra CASE: one case of oasis_extra.py.
extra()
{
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/oasis_extra.py" $PORT "$T/pki" "$@"
}

extra_start()
{
	sd_setup
	sd_conf
	sd_conf_soft
	sd_start 1
}

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

atf_test_case links cleanup
links_head()
{
	atf_set "descr" "A client's own Links are taken, a key pair's are the server's"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
links_body()
{
	extra_start
	extra links
	sd_stop
}
links_cleanup()
{
	sd_cleanup
}

atf_test_case versions cleanup
versions_head()
{
	atf_set "descr" "Add and Delete Attribute of an attribute newer than the request's version are refused"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
versions_body()
{
	extra_start
	extra versions
	sd_stop
}
versions_cleanup()
{
	sd_cleanup
}

atf_test_case digest cleanup
digest_head()
{
	atf_set "descr" "Every key has its Digest, and the attributes that always have a value"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
digest_body()
{
	extra_start
	extra digest
	sd_stop
}
digest_cleanup()
{
	sd_cleanup
}

atf_test_case modes cleanup
modes_head()
{
	atf_set "descr" "AES in ECB, CBC, CTR and GCM with an 8-byte IV in the software signer"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
modes_body()
{
	extra_start
	extra modes
	sd_stop
}
modes_cleanup()
{
	sd_cleanup
}

atf_test_case keyless cleanup
keyless_head()
{
	atf_set "descr" "Hash, RNG Retrieve and RNG Seed"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
keyless_body()
{
	extra_start
	extra keyless
	sd_stop
}
keyless_cleanup()
{
	sd_cleanup
}

atf_test_case opaque cleanup
opaque_head()
{
	atf_set "descr" "Register and Get of an Opaque Object"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
opaque_body()
{
	extra_start
	extra opaque
	sd_stop
}
opaque_cleanup()
{
	sd_cleanup
}

atf_test_case des3 cleanup
des3_head()
{
	atf_set "descr" "Triple DES keys are made, kept and given, not used"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
des3_body()
{
	extra_start
	extra des3
	sd_stop
}
des3_cleanup()
{
	sd_cleanup
}

atf_test_case usagelimits cleanup
usagelimits_head()
{
	atf_set "descr" "A key protects no more than its Usage Limits allow"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
usagelimits_body()
{
	extra_start
	extra usagelimits
	sd_stop
}
usagelimits_cleanup()
{
	sd_cleanup
}

atf_test_case tokenmode cleanup
tokenmode_head()
{
	atf_set "descr" "A key in a pkcs11 token does AES-GCM only"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
tokenmode_body()
{
	sd_setup s1
	sd_conf s1
	echo 'default signer "s1"' >>"$T/signerd.conf"
	sd_start 1
	extra tokenmode
	sd_stop
}
tokenmode_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case vectors
	atf_add_test_case links
	atf_add_test_case versions
	atf_add_test_case digest
	atf_add_test_case modes
	atf_add_test_case keyless
	atf_add_test_case opaque
	atf_add_test_case des3
	atf_add_test_case usagelimits
	atf_add_test_case tokenmode
}
