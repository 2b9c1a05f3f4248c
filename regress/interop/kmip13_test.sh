#! /usr/bin/env atf-sh
#
# The KMIP 1.3 Query functions, Check, and Get with a Key Wrapping
# Specification (issue 10), by hand-made TTLV against the real daemon.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# k13 CASE: one case of kmip13.py.
k13()
{
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/kmip13.py" $PORT "$T/pki" "$@"
}

k13_start()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
}

atf_test_case query cleanup
query_head()
{
	atf_set "descr" "Query functions of KMIP 1.3 answered to 1.3 and 1.4" \
	    "requests only, Operations in the request's version"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
query_body()
{
	k13_start
	k13 query
	sd_stop
}
query_cleanup()
{
	sd_cleanup
}

atf_test_case check cleanup
check_head()
{
	atf_set "descr" "Check of Usage Limits Count, Cryptographic Usage" \
	    "Mask and Lease Time, with the failing fields"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
check_body()
{
	k13_start
	k13 check
	sd_stop
}
check_cleanup()
{
	sd_cleanup
}

atf_test_case wrap cleanup
wrap_head()
{
	atf_set "descr" "Get with a Key Wrapping Specification in the" \
	    "software signer: AES key wrap, RSA OAEP, Encoding Option, attributes"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
wrap_body()
{
	k13_start
	k13 wrap
	sd_stop
}
wrap_cleanup()
{
	sd_cleanup
}

atf_test_case wraperr cleanup
wraperr_head()
{
	atf_set "descr" "Get with a Key Wrapping Specification refused:" \
	    "no wrapping key, no Wrap Key, not Extractable, versions, private keys"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
wraperr_body()
{
	k13_start
	k13 wraperr
	sd_stop
}
wraperr_cleanup()
{
	sd_cleanup
}

atf_test_case wrapp11 cleanup
wrapp11_head()
{
	atf_set "descr" "A key in a pkcs11 token is never wrapped out"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
wrapp11_body()
{
	sd_setup s1
	sd_conf s1
	echo 'default signer "s1"' >>"$T/signerd.conf"
	sd_start 1
	k13 wrapp11
	sd_stop
}
wrapp11_cleanup()
{
	sd_cleanup
}

atf_test_case profiles cleanup
profiles_head()
{
	atf_set "descr" "Query Profiles claims only profiles whose vectors" \
	    "all pass (oasis.expected)"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
profiles_body()
{
	k13_start
	k13 profiles
	sd_stop
}
profiles_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case query
	atf_add_test_case check
	atf_add_test_case wrap
	atf_add_test_case wraperr
	atf_add_test_case wrapp11
	atf_add_test_case profiles
}
