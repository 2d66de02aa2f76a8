#!/bin/sh
# Regenerates the test PKI of nut-client/tests/tls.rs (run once; the output
# is committed so that the tests need no openssl). Valid for 100 years.
set -eu
cd "$(dirname "$0")"
days=36500
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # name subject
	key "$1-key.pem"
	openssl req -x509 -new -key "$1-key.pem" -subj "/CN=$2" -days $days -out "$1.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # name subject ca ext
	key "$1-key.pem"
	openssl req -new -key "$1-key.pem" -subj "/CN=$2" -out "$1.csr"
	printf '%s\n' "$4" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3-key.pem" -CAcreateserial \
		-days $days -extfile "$1.ext" -out "$1.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext" "$3.srl"
}
ca ca "nut-rs test CA"
ca other-ca "nut-rs unrelated CA"
leaf server localhost ca "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
leaf client "upsmon client" ca "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
leaf rogue-client "rogue client" other-ca "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
# upsd's CERTFILE: certificate and key in one file.
cat server.pem server-key.pem > upsd-certfile.pem
# The same for Debian's NSS upsd: a PKCS#12 file (password "testpass",
# nickname nut-test-server) that the test imports into an NSS database.
openssl pkcs12 -export -in server.pem -inkey server-key.pem -certfile ca.pem \
	-name nut-test-server -passout pass:testpass -out server.p12
rm -f server-key.pem other-ca-key.pem ca-key.pem
