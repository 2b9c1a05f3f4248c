#!/bin/sh
#
# `make run`: start signerd in the foreground on the embedded default: a
# SoftHSM2 token "signerd" in a local state directory, self-made test
# certificates, a local keystore path, KMIP on 127.0.0.1 port 5696
# (SIGNERD_PORT to change it, SIGNERD_RUNDIR for another state directory).

set -eu
O=${1:-obj}
top=$(cd "$(dirname "$0")/.." && pwd)
case $O in
/*)	;;
*)	O=$top/$O ;;
esac
run=${SIGNERD_RUNDIR:-$top/run}
port=${SIGNERD_PORT:-5696}
user=${SIGNERD_USER:-_signerd}
hsm_user=${SIGNERD_HSM_USER:-_signerd_hsm}
export SIGNERD_HSM_USER=$hsm_user

if [ "$(id -u)" -ne 0 ]; then
	echo "make run: signerd starts as root (it drops privileges itself)" >&2
	exit 1
fi
mkdir -p "$run"
# The signer children run as $hsm_user and must reach the token directory.
if ! runuser -u "$hsm_user" -- test -x "$run"; then
	echo "make run: $hsm_user cannot reach $run (a parent directory is" \
	    "not searchable); set SIGNERD_RUNDIR to another place" >&2
	exit 1
fi
sh "$top/etc/mkstate.sh" "$run" signerd
# The software signer's key-encryption key: 32 random bytes, root only.
[ -f "$run/kek" ] || (umask 077; head -c 32 /dev/urandom >"$run/kek")

if [ ! -f "$run/signerd.conf" ]; then
	cat >"$run/signerd.conf" <<EOT
# signerd.conf made by \`make run\`: see signerd.conf(5).
user "$user"
signer user "$hsm_user"
control socket "$run/signerd.sock"
keystore "$run/db/keystore.db"

listen on 127.0.0.1 port $port tls {
	certificate "$run/pki/server.crt"
	key "$run/pki/server.key"
	client ca "$run/pki/ca.crt"
}
admin "alice"

signer "softhsm" pkcs11 {
	module "/usr/lib/softhsm/libsofthsm2.so"
	token "signerd"
	pin file "$run/signerd.pin"
}
signer "soft" openssl {
	kek file "$run/kek"
}
default signer "soft"
one-off signer "soft"
EOT
fi

# The port of an existing configuration, which may not be $port.
port=$(awk '$1 == "listen" { for (i = 1; i < NF; i++)
    if ($i == "port") print $(i + 1) }' "$run/signerd.conf" | head -n 1)
cat <<EOT
signerd: state in $run
  KMIP/TLS   127.0.0.1:${port:-5696}, client "alice" (an admin):
             certificate $run/pki/client.crt
             key         $run/pki/client.key
             CA          $run/pki/ca.crt
  control    $O/bin/signerctl -s $run/signerd.sock show signers
  try it     /usr/bin/python3 $top/etc/kmip-demo.py -r $run
Stop with ^C.
EOT
export SOFTHSM2_CONF="$run/softhsm2.conf"
export SIGNERD_LIBEXEC="$O/bin"
exec "$O/bin/signerd" -d -f "$run/signerd.conf"
