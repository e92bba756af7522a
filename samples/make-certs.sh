#!/usr/bin/env bash
# make-certs.sh - generate the test PKI used by the tlsdiag sample captures.
#
# Writes into samples/keys/ (next to this script), replacing what is there:
#
#   root-ca.pem / .key             "tlsdiag Test Root CA", RSA 2048, self-signed
#   intermediate-ca.pem / .key     "tlsdiag Test Intermediate CA", RSA 4096,
#                                  signed by the root
#   server.example.pem / .key      leaf, RSA 2048, SAN DNS:server.example,
#                                  DNS:www.server.example, IP:10.0.0.2,
#                                  signed by the intermediate
#   server.example-chain.pem       leaf + intermediate (what the server sends)
#   ec.server.example.pem / .key   leaf, EC P-256, signed by the intermediate
#   ec.server.example-chain.pem    leaf + intermediate
#   chain.pem                      intermediate + root (the CA chain, e.g. for
#                                  `openssl verify -CAfile chain.pem leaf.pem`)
#   other-ca.pem / .key            "Other CA", RSA 2048, self-signed, unrelated
#   mismatch-sent.pem / .key       CN=legacy.server.example, RSA 2048: the
#                                  certificate the clients receive
#   mismatch-real.pem / .key       CN=legacy.server.example, RSA 2048, another
#                                  key: the key the server really holds
#   server.example-renewed.pem / .key
#                                  leaf for the same names as server.example,
#                                  RSA 2048, another key (a renewal: the same
#                                  SNI presenting another certificate)
#   server.example-renewed-chain.pem  leaf + intermediate
#   old-intermediate-ca.pem / .key "tlsdiag Test Intermediate CA" again, RSA
#                                  2048, another key, signed by the root: the
#                                  intermediate before a CA key rollover
#   server.example-broken-chain.pem  server.example + old-intermediate-ca: a
#                                  broken chain (the intermediate has the
#                                  leaf's issuer name but did not sign it)
#
# The renewed leaf and the old intermediate are made by the function
# second_generation below; run alone (`make-certs.sh --second-generation`)
# it adds them to an existing PKI without replacing anything else.
#
#   client.example.pem / .key      client certificate (clientAuth), EC P-256,
#                                  CN=client.example, signed by the
#                                  intermediate
#   client.example-chain.pem       client leaf + intermediate
#
# Private keys are PKCS#8 PEM, unencrypted. Every certificate is valid from now
# for ten years. Keys are random: running this again produces different keys,
# which invalidates the committed captures until make-samples.py is re-run too.
#
# Usage: samples/make-certs.sh            (needs the openssl 3.x CLI)
#        samples/make-certs.sh client     only the client certificate, issued
#                                         by the existing intermediate (the
#                                         other files stay as they are)
#        samples/make-certs.sh --second-generation
#                                         only the renewed leaf and the old
#                                         intermediate

set -euo pipefail

only_second=false
[ "${1:-}" = "--second-generation" ] && only_second=true
only_client=false
[ "${1:-}" = client ] && only_client=true

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/keys"
days=3650

command -v openssl >/dev/null || { echo "make-certs.sh: openssl not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$out"
$only_second || $only_client || rm -f "$out"/*.pem "$out"/*.key "$out"/*.srl

# serials apart from the full run's and from each other's (the committed
# client.example.pem and server.example-renewed.pem were made when both
# partial runs started at 0x2001: the same serial from one issuer)
serial=4096
$only_second && serial=8192
$only_client && serial=12288
next_serial() { serial=$((serial + 1)); printf '0x%x' "$serial"; }

rsa_key() {   # rsa_key NAME BITS
    openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$out/$1.key"
}

ec_key() {    # ec_key NAME
    openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$out/$1.key"
}

# self_signed_ca NAME SUBJECT
self_signed_ca() {
    cat >"$tmp/$1.ext" <<'EOF'
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    openssl req -new -key "$out/$1.key" -subj "$2" -out "$tmp/$1.csr"
    openssl x509 -req -in "$tmp/$1.csr" -signkey "$out/$1.key" -days "$days" \
        -sha256 -set_serial "$(next_serial)" -extfile "$tmp/$1.ext" \
        -out "$out/$1.pem" 2>/dev/null
}

# signed NAME SUBJECT ISSUER EXTFILE
signed() {
    openssl req -new -key "$out/$1.key" -subj "$2" -out "$tmp/$1.csr"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$out/$3.pem" -CAkey "$out/$3.key" \
        -days "$days" -sha256 -set_serial "$(next_serial)" -extfile "$4" \
        -out "$out/$1.pem" 2>/dev/null
}

cat >"$tmp/intermediate.ext" <<'EOF'
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = caIssuers;URI:http://pki.tlsdiag.test/root-ca.crt
crlDistributionPoints = URI:http://pki.tlsdiag.test/root-ca.crl
EOF

leaf_ext() {  # leaf_ext FILE SAN
    cat >"$1" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $2
certificatePolicies = 2.23.140.1.2.1
authorityInfoAccess = OCSP;URI:http://ocsp.tlsdiag.test/, caIssuers;URI:http://pki.tlsdiag.test/intermediate-ca.crt
crlDistributionPoints = URI:http://pki.tlsdiag.test/intermediate-ca.crl
EOF
}

# The renewed leaf and the old intermediate (see the header).
second_generation() {
    leaf_ext "$tmp/renewed.ext" "DNS:server.example, DNS:www.server.example, IP:10.0.0.2"
    rsa_key server.example-renewed 2048
    signed server.example-renewed "/O=tlsdiag/CN=server.example" intermediate-ca "$tmp/renewed.ext"
    cat "$out/server.example-renewed.pem" "$out/intermediate-ca.pem" \
        >"$out/server.example-renewed-chain.pem"
    openssl verify -CAfile "$out/root-ca.pem" -untrusted "$out/intermediate-ca.pem" \
        "$out/server.example-renewed.pem" >/dev/null
    rsa_key old-intermediate-ca 2048
    signed old-intermediate-ca "/O=tlsdiag/CN=tlsdiag Test Intermediate CA" root-ca \
        "$tmp/intermediate.ext"
    cat "$out/server.example.pem" "$out/old-intermediate-ca.pem" \
        >"$out/server.example-broken-chain.pem"
    # the old intermediate has the leaf's issuer name, but did not sign it
    [ "$(openssl x509 -in "$out/server.example.pem" -noout -issuer | sed 's/^issuer=//')" = \
      "$(openssl x509 -in "$out/old-intermediate-ca.pem" -noout -subject | sed 's/^subject=//')" ]
    if openssl verify -CAfile "$out/root-ca.pem" -untrusted "$out/old-intermediate-ca.pem" \
        "$out/server.example.pem" >/dev/null 2>&1; then
        echo "make-certs.sh: the broken chain verifies" >&2
        exit 1
    fi
    chmod 644 "$out"/server.example-renewed* "$out"/old-intermediate-ca.* \
        "$out"/server.example-broken-chain.pem
}

if $only_second; then
    second_generation
    echo "make-certs.sh: added the second-generation files to $out"
    exit 0
fi

# A client certificate for the CertificateRequest sample (EC P-256 keeps
# the client's flight small).
client_cert() {
    cat >"$tmp/client.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    ec_key client.example
    signed client.example "/O=tlsdiag/CN=client.example" intermediate-ca "$tmp/client.ext"
    cat "$out/client.example.pem" "$out/intermediate-ca.pem" >"$out/client.example-chain.pem"
    openssl verify -CAfile "$out/root-ca.pem" -untrusted "$out/intermediate-ca.pem" \
        "$out/client.example.pem" >/dev/null
    chmod 644 "$out"/client.example*
}
if $only_client; then
    client_cert
    echo "make-certs.sh: wrote client.example{.pem,.key,-chain.pem} to $out"
    exit 0
fi

# The test root and its intermediate.
rsa_key root-ca 2048
self_signed_ca root-ca "/O=tlsdiag/CN=tlsdiag Test Root CA"

rsa_key intermediate-ca 4096
signed intermediate-ca "/O=tlsdiag/CN=tlsdiag Test Intermediate CA" root-ca "$tmp/intermediate.ext"

# RSA leaf server.example.
leaf_ext "$tmp/server.ext" "DNS:server.example, DNS:www.server.example, IP:10.0.0.2"
rsa_key server.example 2048
signed server.example "/O=tlsdiag/CN=server.example" intermediate-ca "$tmp/server.ext"

# EC P-256 leaf ec.server.example.
leaf_ext "$tmp/ec.ext" "DNS:ec.server.example"
ec_key ec.server.example
signed ec.server.example "/O=tlsdiag/CN=ec.server.example" intermediate-ca "$tmp/ec.ext"

# An unrelated self-signed CA (the client trusts only this one in the
# unknown_ca samples).
rsa_key other-ca 2048
self_signed_ca other-ca "/O=Other Org/CN=Other CA"

# The key-mismatch pair: same name, different keys, both issued by the
# intermediate. mismatch-sent is what goes on the wire, mismatch-real is what
# the server decrypts with.
leaf_ext "$tmp/legacy.ext" "DNS:legacy.server.example"
rsa_key mismatch-sent 2048
signed mismatch-sent "/O=tlsdiag/CN=legacy.server.example" intermediate-ca "$tmp/legacy.ext"
rsa_key mismatch-real 2048
signed mismatch-real "/O=tlsdiag/CN=legacy.server.example" intermediate-ca "$tmp/legacy.ext"

client_cert

# Bundles.
cat "$out/server.example.pem" "$out/intermediate-ca.pem" >"$out/server.example-chain.pem"
cat "$out/ec.server.example.pem" "$out/intermediate-ca.pem" >"$out/ec.server.example-chain.pem"
cat "$out/intermediate-ca.pem" "$out/root-ca.pem" >"$out/chain.pem"

second_generation

# Sanity checks: chains verify, keys belong to their certificates.
for leaf in server.example ec.server.example mismatch-sent mismatch-real; do
    openssl verify -CAfile "$out/root-ca.pem" -untrusted "$out/intermediate-ca.pem" \
        "$out/$leaf.pem" >/dev/null
done
for name in root-ca intermediate-ca server.example ec.server.example other-ca \
            mismatch-sent mismatch-real; do
    a=$(openssl x509 -in "$out/$name.pem" -noout -pubkey)
    b=$(openssl pkey -in "$out/$name.key" -pubout)
    [ "$a" = "$b" ] || { echo "make-certs.sh: $name.key does not match $name.pem" >&2; exit 1; }
done
a=$(openssl x509 -in "$out/mismatch-sent.pem" -noout -pubkey)
b=$(openssl x509 -in "$out/mismatch-real.pem" -noout -pubkey)
[ "$a" != "$b" ] || { echo "make-certs.sh: mismatch pair has the same key" >&2; exit 1; }

chmod 644 "$out"/*
echo "make-certs.sh: wrote $(ls "$out" | wc -l) files to $out"
