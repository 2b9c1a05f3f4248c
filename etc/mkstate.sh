#!/bin/sh
#
# mkstate.sh DIR [TOKEN ...]: make a local state directory for signerd:
# a SoftHSM2 configuration with the named tokens (each with a random user
# PIN in DIR/TOKEN.pin, mode 0600), and a test PKI in DIR/pki (a CA, a
# server certificate for localhost/127.0.0.1, client certificates with
# CN "alice" (client.crt) and CN "bob" (bob.crt)).  Existing tokens and certificates are kept.  Used by
# `make run` and by the tests; not meant for production keys.

set -eu
dir=$1
shift
# The signer children's user (signer user in signerd.conf).
user=${SIGNERD_HSM_USER:-_signerd_hsm}

mkdir -p "$dir/tokens" "$dir/pki"
chmod 755 "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/softhsm2.conf
if [ ! -f "$conf" ]; then
	cat >"$conf" <<EOT
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOT
fi
export SOFTHSM2_CONF=$conf

for label in "$@"; do
	if softhsm2-util --show-slots 2>/dev/null |
	    grep -q "Label: *$label *\$"; then
		continue
	fi
	umask 077
	od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$dir/$label.pin"
	od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$dir/$label.so-pin"
	umask 022
	# softhsm2-util takes PINs only on its command line or a terminal.
	softhsm2-util --init-token --free --label "$label" \
	    --pin "$(cat "$dir/$label.pin")" \
	    --so-pin "$(cat "$dir/$label.so-pin")" >/dev/null
done
# The signer children run as $user and open the token files.
chown -R "$user" "$dir/tokens"
chmod 644 "$conf"

pki=$dir/pki
if [ ! -f "$pki/bob.crt" ]; then
	(
	cd "$pki"
	umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout ca.key -out ca.crt -days 3650 \
	    -subj "/CN=signerd test CA" 2>/dev/null
	for who in server client bob; do
		case $who in
		server)	cn=localhost
			ext="subjectAltName=DNS:localhost,IP:127.0.0.1" ;;
		client)	cn=alice
			ext="extendedKeyUsage=clientAuth" ;;
		bob)	cn=bob
			ext="extendedKeyUsage=clientAuth" ;;
		esac
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout $who.key -out $who.csr \
		    -subj "/CN=$cn" 2>/dev/null
		openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 3650 -out $who.crt \
		    -extfile /dev/stdin 2>/dev/null <<EOT
$ext
EOT
		rm -f $who.csr
	done
	chmod 644 ca.crt server.crt client.crt bob.crt
	)
fi
