#! /usr/bin/env atf-sh
#
# The cryptographic edges of the OASIS KMIP 1.4 vectors (issue 10):
# crypto.py against the real daemon with the software signer.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# run CASE: one case of crypto.py, on a daemon of its own.
run()
{
	sd_setup
	sd_conf
	sd_conf_soft
	sd_start 1
	atf_check -o match:"^ok" -e ignore \
	    timeout -k 5 120 $PY "$(atf_get_srcdir)/crypto.py" $PORT \
	    "$T/pki" "$1"
	sd_stop
}

atf_test_case sha1verify cleanup
sha1verify_head()
{
	atf_set "descr" "A SHA-1 signature verifies (CS-AC-M-3); signing" \
	    "with SHA-1 stays refused"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
}
sha1verify_body()
{
	run sha1verify
}
sha1verify_cleanup()
{
	sd_cleanup
}

atf_test_case hmackey cleanup
hmackey_head()
{
	atf_set "descr" "An AES key with MAC in its usage mask MACs with the" \
	    "HMAC its parameters name (CS-AC-M-4 to 6), not without"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
}
hmackey_body()
{
	run hmackey
}
hmackey_cleanup()
{
	sd_cleanup
}

atf_test_case gcmtag cleanup
gcmtag_head()
{
	atf_set "descr" "A GCM Tag Length outside 12..16 is General Failure" \
	    "(CS-BC-M-GCM-1)"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
}
gcmtag_body()
{
	run gcmtag
}
gcmtag_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case sha1verify
	atf_add_test_case hmackey
	atf_add_test_case gcmtag
}
