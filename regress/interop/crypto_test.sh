#! /usr/bin/env atf-sh
#
# The cryptographic edges of the OASIS KMIP 1.4 vectors (issue 10):
# crypto.py against the real daemon with the software signer.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# run CASE: one case of crypto.py, on a daemon of its own; the case
# token on a pkcs11 default signer.
run()
{
	if [ "$1" = token ]; then
		sd_setup s1
		sd_conf s1
		echo 'default signer "s1"' >>"$T/signerd.conf"
	else
		sd_setup
		sd_conf
		sd_conf_soft
	fi
	sd_start 1
	# signerctl, for the case that restarts the signer.
	[ "$1" = streamrestart ] && set -- "$1" "$SIGNERCTL"
	atf_check -o match:"^ok" -e ignore \
	    timeout -k 5 100 $PY "$(atf_get_srcdir)/crypto.py" $PORT \
	    "$T/pki" "$@"
	# A signer restarted: its new pid, for the cleanup.
	sd_record_pids
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

atf_test_case stream cleanup
stream_head()
{
	atf_set "descr" "Encrypt and Decrypt by parts (CS-BC-M-GCM-3) give" \
	    "what the whole operation gives; GCM plaintext only once verified"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
}
stream_body()
{
	run stream
}
stream_cleanup()
{
	sd_cleanup
}

atf_test_case streamidle cleanup
streamidle_head()
{
	atf_set "descr" "Abandoned streams: a clean error past the limit," \
	    "freed by the idle timeout and when their connection closes"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
streamidle_body()
{
	run streamidle
}
streamidle_cleanup()
{
	sd_cleanup
}

atf_test_case streamforeign cleanup
streamforeign_head()
{
	atf_set "descr" "A Correlation Value of another identity or" \
	    "connection is Item Not Found; its stream goes on"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
}
streamforeign_body()
{
	run streamforeign
}
streamforeign_cleanup()
{
	sd_cleanup
}

atf_test_case streamrestart cleanup
streamrestart_head()
{
	atf_set "descr" "A stream across a restart of its signer fails" \
	    "cleanly; new streams work"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
	atf_set "timeout" "120"
}
streamrestart_body()
{
	run streamrestart
}
streamrestart_cleanup()
{
	sd_cleanup
}

atf_test_case token cleanup
token_head()
{
	atf_set "descr" "Token keys: a SHA-1 signature is checked, none" \
	    "made; an AES key does not MAC nor stream (clean errors)"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3 timeout"
}
token_body()
{
	run token
}
token_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case sha1verify
	atf_add_test_case hmackey
	atf_add_test_case gcmtag
	atf_add_test_case stream
	atf_add_test_case streamidle
	atf_add_test_case streamforeign
	atf_add_test_case streamrestart
	atf_add_test_case token
}
