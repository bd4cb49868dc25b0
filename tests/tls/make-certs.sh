#!/bin/sh
# make-certs.sh DIR -- generate the certificates the TLS tests use, with the
# openssl command, into DIR (created if needed). Nothing is kept in the repo.
#
#   ca.pem / ca.key            test CA (EC P-256)
#   good.pem / good.key        leaf for "localhost" (EC), signed by the CA
#   rsa.pem / rsa.key          leaf for "localhost" (RSA 2048), signed by the CA
#   wrongname.pem / .key       leaf for "wrong.example", signed by the CA
#   expired.pem / .key         leaf for "localhost", valid in January 2020 only
#   selfsigned.pem / .key      self-signed "localhost"
#   unknownca.pem / .key       leaf for "localhost" signed by another CA
#   iponly.pem / .key          leaf with only iPAddress SANs 127.0.0.1 and ::1
#   ipother.pem / .key         leaf with only an iPAddress SAN 127.0.0.9
#   ca-bundle.pem              a non-certificate PEM block, then the CA (loader test)
#   certdir/                   the CA alone, for SSL_CERT_DIR
set -eu
dir=${1:?usage: make-certs.sh DIR}
version=4   # bump when the set below changes: the directory is then made anew
mkdir -p "$dir"
cd "$dir"
# Suites that run at once (make test-cross runs the targets side by side)
# may ask for the same directory: one makes it, the others wait for it.
if command -v flock >/dev/null 2>&1; then
    exec 9>"../.$(basename "$dir").lock"
    flock 9
fi
if [ "$(cat .done 2>/dev/null)" = "$version" ]; then exit 0; fi
rm -rf ./*

days=3650
ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
rsa() { openssl genrsa -out "$1" 2048 2>/dev/null; }

# The CAs.
ec ca.key
openssl req -x509 -new -key ca.key -sha256 -days $days -subj "/CN=osb test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
ec other-ca.key
openssl req -x509 -new -key other-ca.key -sha256 -days $days -subj "/CN=osb other CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out other-ca.pem

# leaf NAME KEYKIND SAN ISSUER [extra x509 args...]
leaf() {
    name=$1 kind=$2 san=$3 issuer=$4
    shift 4
    $kind "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
        "$san" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
        -CAcreateserial -sha256 -extfile "$name.ext" -out "$name.pem" "$@" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

leaf good ec "DNS:localhost" ca -days $days
leaf rsa rsa "DNS:localhost" ca -days $days
leaf wrongname ec "DNS:wrong.example" ca -days $days
leaf unknownca ec "DNS:localhost" other-ca -days $days
leaf iponly ec "IP:127.0.0.1,IP:::1" ca -days $days
leaf ipother ec "IP:127.0.0.9,DNS:127.0.0.1" ca -days $days

# Expired: validity fixed in the past with `openssl ca`.
ec expired.key
openssl req -new -key expired.key -subj "/CN=expired" -out expired.csr
mkdir -p ca-db
: > ca-db/index.txt
echo 01 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ ca ]
default_ca = testca
[ testca ]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = anything
copy_extensions = none
unique_subject = no
x509_extensions = leafext
[ anything ]
commonName = supplied
[ leafext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
CNF
openssl ca -batch -config ca-db/ca.cnf -startdate 20200101000000Z -enddate 20200131000000Z \
    -in expired.csr -out expired.pem 2>/dev/null
rm -f expired.csr

# Self-signed leaf for localhost (not a CA).
ec selfsigned.key
openssl req -x509 -new -key selfsigned.key -sha256 -days $days -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" -addext "basicConstraints=CA:FALSE" \
    -out selfsigned.pem

# A bundle with something that is not a certificate before the CA.
{ printf 'some text before the first block\n'; openssl ecparam -name prime256v1; cat ca.pem; } > ca-bundle.pem

# A CA directory for SSL_CERT_DIR (the CA and an unrelated file).
mkdir -p certdir
cp ca.pem certdir/osb-test-ca.pem
ln -s osb-test-ca.pem certdir/0a1b2c3d.0    # a hash-style link: read once
echo "not a certificate" > certdir/README

# A certificate with bytes after its end inside the base64 (BearSSL 0.6's
# X.509 decoder crashes if it is fed past its end; the loader must not).
{ echo "-----BEGIN CERTIFICATE-----"
  { openssl x509 -in ca.pem -outform der; printf 'trailing bytes!!'; } | openssl base64
  echo "-----END CERTIFICATE-----"; } > trailing.pem

# A file with no certificate at all, and a truncated one.
printf 'no certificates here\n' > empty.pem
head -c 200 ca.pem > truncated.pem

echo $version > .done
