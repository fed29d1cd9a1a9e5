// Command csr makes a private key and a PKCS#10 certificate signing request with Go's
// crypto/x509 (x509.CreateCertificateRequest): an implementation independent of OpenSSL and
// Botan, for testing that `pki sign` accepts what Go clients send and refuses what it must.
// Standard library only; run with `go run main.go -key ec256 -out-csr x.csr -out-key x.key`.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

func newKey(kind string) (crypto.Signer, error) {
	switch kind {
	case "ec256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ec384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "rsa1024":
		return rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "rsa3072":
		return rsa.GenerateKey(rand.Reader, 3072)
	case "ed25519":
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	}
	return nil, fmt.Errorf("unknown key type %q (ec256, ec384, rsa1024, rsa2048, rsa3072, ed25519)", kind)
}

func list(value string) []string {
	if value == "" {
		return nil
	}
	return strings.Split(value, ",")
}

func run() error {
	kind := flag.String("key", "ec256", "key type: ec256, ec384, rsa1024, rsa2048, rsa3072, ed25519")
	commonName := flag.String("cn", "go-client", "subject common name")
	dnsNames := flag.String("dns", "", "comma-separated DNS names to ask for")
	ipAddresses := flag.String("ip", "", "comma-separated IP addresses to ask for")
	uris := flag.String("uri", "", "comma-separated URIs to ask for")
	corrupt := flag.Bool("corrupt-signature", false, "flip a bit of the signature (a CSR that must be refused)")
	keyOut := flag.String("out-key", "", "where to write the PKCS#8 PEM private key")
	csrOut := flag.String("out-csr", "", "where to write the PEM CSR")
	flag.Parse()
	if *keyOut == "" || *csrOut == "" {
		return fmt.Errorf("-out-key and -out-csr are required")
	}

	key, err := newKey(*kind)
	if err != nil {
		return err
	}
	template := x509.CertificateRequest{Subject: pkix.Name{CommonName: *commonName}, DNSNames: list(*dnsNames)}
	for _, ip := range list(*ipAddresses) {
		parsed := net.ParseIP(ip)
		if parsed == nil {
			return fmt.Errorf("bad IP %q", ip)
		}
		template.IPAddresses = append(template.IPAddresses, parsed)
	}
	for _, u := range list(*uris) {
		parsed, err := url.Parse(u)
		if err != nil {
			return err
		}
		template.URIs = append(template.URIs, parsed)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &template, key)
	if err != nil {
		return err
	}
	if *corrupt {
		// The signature BIT STRING ends the DER: its last byte belongs to the signature.
		der[len(der)-1] ^= 0x01
	}
	keyDer, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*keyOut, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDer}), 0600); err != nil {
		return err
	}
	return os.WriteFile(*csrOut, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0644)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "csr:", err)
		os.Exit(1)
	}
}
