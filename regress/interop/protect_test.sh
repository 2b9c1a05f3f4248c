#! /usr/bin/env atf-sh
#
# Identity and key protection against the real daemon, with hand-made
# TTLV (protect.py): clients without a certificate, Sensitive and
# Extractable, UTF-8 in and out, private keys parsed by the signer only.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

protect_start()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
}

# protect_case CASE: one case of protect.py must print ok.
protect_case()
{
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/protect.py" $PORT "$T/pki" "$1"
}

atf_test_case unauthenticated cleanup
unauthenticated_head()
{
	atf_set "descr" "with client certificate optional, a client without" \
	    "one may Query and Discover Versions, nothing else"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
unauthenticated_body()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sed -i 's|^\(	client ca .*\)$|\1\n	client certificate optional|' \
	    "$T/signerd.conf"
	grep -q "client certificate optional" "$T/signerd.conf" ||
	    atf_fail "configuration not changed"
	sd_start 2
	protect_case unauth
	sd_stop
}
unauthenticated_cleanup()
{
	sd_cleanup
}

atf_test_case sticky_attributes cleanup
sticky_attributes_head()
{
	atf_set "descr" "Sensitive only goes false to true, Extractable true" \
	    "to false, by any operation; neither can be deleted"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
sticky_attributes_body()
{
	protect_start
	protect_case sticky
	sd_stop
}
sticky_attributes_cleanup()
{
	sd_cleanup
}

atf_test_case utf8 cleanup
utf8_head()
{
	atf_set "descr" "Text Strings that are not UTF-8 get Invalid Message," \
	    "never echoed; Result Messages are UTF-8 without controls"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
utf8_body()
{
	protect_start
	protect_case utf8
	# Nor do log lines carry the control bytes a client sent.
	if grep -q "$(printf 'a\001b')" "$T/log"; then
		atf_fail "control byte in the log"
	fi
	sd_stop
}
utf8_cleanup()
{
	sd_cleanup
}

atf_test_case private_key_wiped cleanup
private_key_wiped_head()
{
	atf_set "descr" "a Register'ed private key is parsed by the signer" \
	    "only and leaves no copy in the engine's memory"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
private_key_wiped_body()
{
	protect_start
	engine=$(sd_pid engine)
	[ -n "$engine" ] || atf_fail "no engine pid"
	# One key at a time: a later request may reuse the memory.
	for k in ec-p8 ec-sec1 rsa-p8; do
		m=$($PY "$(atf_get_srcdir)/protect.py" $PORT "$T/pki" \
		    register_private $k) || atf_fail "$k: $m"
		atf_check -s exit:0 -o match:"^absent" \
		    $PY "$(atf_get_srcdir)/memscan.py" "$engine" "$m"
	done
	sd_stop
}
private_key_wiped_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case unauthenticated
	atf_add_test_case sticky_attributes
	atf_add_test_case utf8
	atf_add_test_case private_key_wiped
}
