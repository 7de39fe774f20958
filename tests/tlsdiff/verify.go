// Go's verdict on each case of the differential TLS test: crypto/x509
// Certificate.Verify as client-go's transport calls it (through crypto/tls),
// with Roots = the case's ca.crt, Intermediates = the rest of the chain the
// server presents, DNSName = the host, KeyUsages left at its default
// (ExtKeyUsageServerAuth). Standard library only.
//
//	go run verify.go CASEDIR...   one line per case: NAME accept | NAME refuse: WHY
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func certs(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return out, nil
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

func verdict(dir string) error {
	host, err := os.ReadFile(filepath.Join(dir, "host"))
	if err != nil {
		return err
	}
	// crypto/tls would refuse a root pool it cannot parse: so does the step.
	roots, err := certs(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return err
	}
	chain, err := certs(filepath.Join(dir, "chain.pem"))
	if err != nil {
		return err
	}
	opts := x509.VerifyOptions{
		Roots:         x509.NewCertPool(),
		Intermediates: x509.NewCertPool(),
		DNSName:       strings.TrimSpace(string(host)),
	}
	for _, c := range roots {
		opts.Roots.AddCert(c)
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err = chain[0].Verify(opts)
	return err
}

func main() {
	for _, dir := range os.Args[1:] {
		if err := verdict(dir); err != nil {
			fmt.Printf("%s refuse: %s\n", filepath.Base(dir),
				strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Printf("%s accept\n", filepath.Base(dir))
		}
	}
}
