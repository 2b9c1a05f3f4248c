#! /usr/bin/env atf-sh
#
# KMIP 1.x conformance (issue 10): responses shaped to the request's
# version, Locate's ID Placeholder and date ranges, the dates that bound
# a key's use, and a Query that says what this configuration can do.
# Hand-made TTLV (ttlvlib speaks every 1.x version) against the real
# daemon.

. "$(atf_get_srcdir)/../daemon/lib.sh"

PY=/usr/bin/python3

# conform CASE [ARG]: one case of conform.py.
conform()
{
	atf_check -o match:"^ok" -e ignore \
	    $PY "$(atf_get_srcdir)/conform.py" $PORT "$T/pki" "$@"
}

conform_start()
{
	sd_setup s1
	sd_conf s1
	sd_conf_soft
	sd_start 2
}

atf_test_case versions cleanup
versions_head()
{
	atf_set "descr" "Get Attributes and Get Attribute List return only" \
	    "the attributes of the request's KMIP version"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
versions_body()
{
	conform_start
	conform versions
	sd_stop
}
versions_cleanup()
{
	sd_cleanup
}

atf_test_case locate cleanup
locate_head()
{
	atf_set "descr" "Locate sets the ID Placeholder for one object found;" \
	    "a date attribute given twice is a range"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
locate_body()
{
	conform_start
	conform locate
	sd_stop
}
locate_cleanup()
{
	sd_cleanup
}

atf_test_case activation cleanup
activation_head()
{
	atf_set "descr" "Activation Date cannot change once the key is Active"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
activation_body()
{
	conform_start
	conform activation
	sd_stop
}
activation_cleanup()
{
	sd_cleanup
}

atf_test_case dates cleanup
dates_head()
{
	atf_set "descr" "Protect Stop Date and Process Start Date are enforced"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
dates_body()
{
	conform_start
	conform dates
	sd_stop
}
dates_cleanup()
{
	sd_cleanup
}

# KMIP operation numbers.
CREATE=0x01 CKP=0x02 REGISTER=0x03 LOCATE=0x08 GET=0x0a MODIFY=0x0e
ACTIVATE=0x12 REVOKE=0x13 DESTROY=0x14 QUERY=0x18 ENCRYPT=0x1f
SIGN=0x21 MAC=0x23

atf_test_case query cleanup
query_head()
{
	atf_set "descr" "Query lists only what the configured signers can do"
	atf_set "require.user" "root"
	atf_set "require.progs" "/usr/bin/python3"
}
query_body()
{
	# The default configuration: all Krill needs, and Register.
	conform_start
	conform query "+$CKP,+$ACTIVATE,+$SIGN,+$REVOKE,+$DESTROY,+$GET,\
+$MODIFY,+$CREATE,+$REGISTER,+$ENCRYPT,+$MAC,+$LOCATE,+$QUERY"
	sd_stop

	# A pkcs11 token alone: keys made and used, none imported.
	sd_newport
	sd_conf s1
	sd_start 1
	conform query "+$CKP,+$SIGN,+$GET,-$REGISTER"
	sd_stop

	# An upstream KMIP signer alone does nothing yet.
	sd_newport
	sd_conf
	cat >>"$T/signerd.conf" <<EOT
signer "k" kmip {
	host "127.0.0.1"
	ca "$T/pki/ca.crt"
	certificate "$T/pki/client.crt"
	key "$T/pki/client.key"
}
EOT
	"$BIN/signerd" -d -f "$T/signerd.conf" >>"$T/log" 2>&1 &
	PARENT=$!
	echo $PARENT >>"$T/pids"
	i=0
	while ! sd_ctl show signers 2>/dev/null | grep -q "^k "; do
		[ $i -lt 100 ] || atf_fail "signer k not listed within 10 s"
		kill -0 $PARENT 2>/dev/null || atf_fail "signerd exited"
		sleep 0.1
		i=$((i + 1))
	done
	sd_record_pids
	conform query "-$SIGN,-$CKP,-$CREATE,-$REGISTER,-$ENCRYPT,-$MAC,\
+$GET,+$LOCATE,+$QUERY,+$ACTIVATE,+$DESTROY"
	sd_stop
}
query_cleanup()
{
	sd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case versions
	atf_add_test_case locate
	atf_add_test_case activation
	atf_add_test_case dates
	atf_add_test_case query
}
