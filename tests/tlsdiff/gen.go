// The certificates of the differential TLS test (run.py): for each case a
// directory with ca.crt (the roots the step and Go trust), chain.pem (what
// the fake API server presents, leaf first), key.pem (the leaf's key) and
// host (the name the client asks for). Standard library only.
//
//	go run gen.go OUTDIR     writes OUTDIR/CASE/..., prints the case names
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

var (
	now    = time.Now()
	serial = int64(1)
	ecKeys []crypto.Signer
	rsaKey *rsa.PrivateKey
)

// A certificate to make: its template, the key kind and who signs it.
type cert struct {
	tmpl *x509.Certificate
	rsa  bool
	key  crypto.Signer
	der  []byte
	obj  *x509.Certificate
}

func ecKey() crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	return k
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen.go:", err)
		os.Exit(1)
	}
}

func name(cn string) pkix.Name { return pkix.Name{CommonName: cn} }

func ca(cn string) *x509.Certificate {
	return &x509.Certificate{
		Subject: name(cn), NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(48 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, MaxPathLen: -1,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func leaf() *x509.Certificate {
	return &x509.Certificate{
		Subject: name("kube-apiserver"), NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(48 * time.Hour), BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:    []string{"localhost", "kubernetes.default.svc"},
	}
}

// sign makes c signed by parent (nil: self-signed).
func sign(c *cert, parent *cert) *cert {
	if c.key == nil {
		if c.rsa {
			c.key = rsaKey
		} else {
			c.key = ecKey()
		}
	}
	serial++
	c.tmpl.SerialNumber = big.NewInt(serial)
	signer, ptmpl := c.key, c.tmpl
	if parent != nil {
		signer, ptmpl = parent.key, parent.obj
	}
	der, err := x509.CreateCertificate(rand.Reader, c.tmpl, ptmpl,
		c.key.Public(), signer)
	check(err)
	c.der = der
	c.obj, err = x509.ParseCertificate(der)
	check(err)
	return c
}

func pemOf(cs ...*cert) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.der})...)
	}
	return out
}

func write(dir, caseName, host string, roots []*cert, chain ...*cert) {
	d := filepath.Join(dir, caseName)
	check(os.MkdirAll(d, 0o755))
	der, err := x509.MarshalPKCS8PrivateKey(chain[0].key)
	check(err)
	files := map[string][]byte{
		"ca.crt":    pemOf(roots...),
		"chain.pem": pemOf(chain...),
		"key.pem":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"host":      []byte(host + "\n"),
	}
	for n, b := range files {
		check(os.WriteFile(filepath.Join(d, n), b, 0o600))
	}
	fmt.Println(caseName)
}

// A case: change the templates of root, intermediate (nil: none) and leaf.
type spec struct {
	name, host string
	root, mid  func(*x509.Certificate)
	leaf       func(*x509.Certificate)
	rsaLeaf    bool
	sha1       bool // the leaf signed with SHA-1 (RSA root)
	hideMid    bool // the server does not send the intermediate
	twoMids    bool // root -> mid -> mid2 -> leaf
	rootNoCA   bool
	extra      bool // an unrelated certificate after the chain
	wrongRoot  bool // ca.crt holds another CA
	forgeLeaf  bool // the leaf signed by an impostor named as its issuer
	forgeMid   bool // the intermediate signed by an impostor of the root
}

var critExt = pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}

func eku(us ...x509.ExtKeyUsage) func(*x509.Certificate) {
	return func(c *x509.Certificate) { c.ExtKeyUsage = us }
}

func cidr(s string) *net.IPNet { _, n, err := net.ParseCIDR(s); check(err); return n }

func all(fs ...func(*x509.Certificate)) func(*x509.Certificate) {
	return func(c *x509.Certificate) {
		for _, f := range fs {
			f(c)
		}
	}
}

var (
	serverAuth = x509.ExtKeyUsageServerAuth
	clientAuth = x509.ExtKeyUsageClientAuth
	past       = func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-72*time.Hour), now.Add(-24*time.Hour) }
	future     = func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(24*time.Hour), now.Add(72*time.Hour) }
	permitDNS  = func(critical bool, d ...string) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.PermittedDNSDomains, c.PermittedDNSDomainsCritical = d, critical }
	}
	excludeDNS = func(critical bool, d ...string) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.ExcludedDNSDomains, c.PermittedDNSDomainsCritical = d, critical }
	}
	permitIP = func(critical bool, n string) func(*x509.Certificate) {
		return func(c *x509.Certificate) {
			c.PermittedIPRanges, c.PermittedDNSDomainsCritical = []*net.IPNet{cidr(n)}, critical
		}
	}
	excludeIP = func(critical bool, n string) func(*x509.Certificate) {
		return func(c *x509.Certificate) {
			c.ExcludedIPRanges, c.PermittedDNSDomainsCritical = []*net.IPNet{cidr(n)}, critical
		}
	}
	pathLen = func(n int) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = n, n == 0 }
	}
	sans = func(dns []string, ips ...string) func(*x509.Certificate) {
		return func(c *x509.Certificate) {
			c.DNSNames, c.IPAddresses = dns, nil
			for _, ip := range ips {
				c.IPAddresses = append(c.IPAddresses, net.ParseIP(ip))
			}
		}
	}
	ku = func(u x509.KeyUsage) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.KeyUsage = u }
	}
	crit    = func(c *x509.Certificate) { c.ExtraExtensions = append(c.ExtraExtensions, critExt) }
	critEKU = func(oid byte) func(*x509.Certificate) {
		return func(c *x509.Certificate) {
			c.ExtKeyUsage = nil
			c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true,
				Value: []byte{0x30, 0x0a, 0x06, 0x08, 0x2b, 6, 1, 5, 5, 7, 3, oid}})
		}
	}
	ncCrit = all(permitDNS(true, "localhost", "svc"), permitIP(true, "127.0.0.1/32"))
	none   = func(*x509.Certificate) {}
)

const ip, dns = "127.0.0.1", "localhost"

var specs = []spec{
	{name: "eku-serverAuth", host: ip},
	{name: "eku-clientAuth-only", host: ip, leaf: eku(clientAuth)},
	{name: "eku-codeSigning", host: ip, leaf: eku(x509.ExtKeyUsageCodeSigning)},
	{name: "eku-serverAuth+clientAuth", host: ip, leaf: eku(serverAuth, clientAuth)},
	{name: "eku-any", host: ip, leaf: eku(x509.ExtKeyUsageAny)},
	{name: "eku-none", host: ip, leaf: eku()},
	{name: "eku-unknown-oid-only", host: ip, leaf: func(c *x509.Certificate) {
		c.ExtKeyUsage, c.UnknownExtKeyUsage = nil, []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 99999, 2}}
	}},
	{name: "eku-on-intermediate-clientAuth", host: ip, mid: eku(clientAuth)},
	{name: "eku-on-intermediate-serverAuth", host: ip, mid: eku(serverAuth)},
	{name: "eku-on-intermediate-any", host: ip, mid: eku(x509.ExtKeyUsageAny)},
	{name: "eku-on-root-clientAuth", host: ip, root: eku(clientAuth)},
	{name: "eku-on-root-serverAuth", host: ip, root: eku(serverAuth)},
	{name: "ku-keyEncipherment-only-rsa", host: ip, rsaLeaf: true, leaf: ku(x509.KeyUsageKeyEncipherment)},
	{name: "ku-certSign-only-rsa", host: ip, rsaLeaf: true, leaf: ku(x509.KeyUsageCertSign)},
	{name: "ku-none-rsa", host: ip, rsaLeaf: true, leaf: ku(0)},
	{name: "ku-digitalSignature-ec", host: ip, leaf: ku(x509.KeyUsageDigitalSignature)},
	{name: "ku-intermediate-no-certSign", host: ip, mid: ku(x509.KeyUsageDigitalSignature)},
	{name: "ip-san-only", host: ip, leaf: sans(nil, ip)},
	{name: "ip-host-dns-service-name-only", host: ip, leaf: sans([]string{"kubernetes.default.svc"})},
	{name: "ip-host-ip-written-as-dns", host: ip, leaf: sans([]string{ip})},
	{name: "ip-host-wrong-ip", host: ip, leaf: sans([]string{"kubernetes.default.svc"}, "127.0.0.2")},
	{name: "ip-host-no-san-cn-is-ip", host: ip, leaf: all(sans(nil), func(c *x509.Certificate) { c.Subject = name(ip) })},
	{name: "dns-host-dns-san", host: dns, leaf: sans([]string{dns})},
	{name: "dns-host-ip-san-only", host: dns, leaf: sans(nil, ip)},
	{name: "dns-host-cn-only", host: dns, leaf: all(sans(nil), func(c *x509.Certificate) { c.Subject = name(dns) })},
	{name: "dns-host-other-dns", host: dns, leaf: sans([]string{"other.example"}, ip)},
	{name: "leaf-expired", host: ip, leaf: past},
	{name: "leaf-not-yet-valid", host: ip, leaf: future},
	{name: "intermediate-expired", host: ip, mid: past},
	{name: "intermediate-not-yet-valid", host: ip, mid: future},
	{name: "root-expired", host: ip, root: past},
	{name: "root-not-yet-valid", host: ip, root: future},
	{name: "chain-with-intermediate", host: ip, mid: none},
	{name: "chain-two-intermediates", host: ip, mid: none, twoMids: true},
	{name: "chain-intermediate-not-sent", host: ip, mid: none, hideMid: true},
	{name: "chain-extra-unrelated-cert", host: ip, extra: true},
	{name: "chain-wrong-ca", host: ip, wrongRoot: true},
	{name: "intermediate-not-ca", host: ip, mid: func(c *x509.Certificate) { c.IsCA = false }},
	{name: "intermediate-no-basic-constraints", host: ip, mid: func(c *x509.Certificate) { c.IsCA, c.BasicConstraintsValid = false, false }},
	{name: "root-without-ca-bit", host: ip, rootNoCA: true},
	{name: "leaf-is-ca", host: ip, leaf: func(c *x509.Certificate) { c.IsCA = true }},
	{name: "pathlen-root-0-with-intermediate", host: ip, root: pathLen(0), mid: none},
	{name: "pathlen-root-0-direct", host: ip, root: pathLen(0)},
	{name: "pathlen-root-1-with-intermediate", host: ip, root: pathLen(1), mid: none},
	{name: "pathlen-root-1-two-intermediates", host: ip, root: pathLen(1), mid: none, twoMids: true},
	{name: "pathlen-intermediate-0-two-intermediates", host: ip, mid: pathLen(0), twoMids: true},
	{name: "nc-root-permitted-dns-and-ip", host: ip, root: all(permitDNS(true, "localhost", "kubernetes.default.svc"), permitIP(true, "127.0.0.0/8"))},
	{name: "nc-root-permitted-dns-other", host: ip, root: permitDNS(true, "example.com")},
	{name: "nc-root-permitted-dot-domain", host: ip, root: permitDNS(true, ".default.svc", "localhost")},
	{name: "nc-root-excluded-dns", host: ip, root: excludeDNS(true, "localhost")},
	{name: "nc-root-excluded-ip", host: ip, root: excludeIP(true, "127.0.0.0/8")},
	{name: "nc-root-permitted-ip-other", host: ip, root: permitIP(true, "10.0.0.0/8")},
	{name: "nc-root-permitted-ip-dns-host", host: dns, root: permitIP(false, "127.0.0.0/8")},
	{name: "nc-intermediate-permitted-critical", host: ip, mid: all(permitDNS(true, "localhost", "svc"), permitIP(true, "127.0.0.1/32"))},
	{name: "nc-intermediate-permitted-noncritical", host: ip, mid: all(permitDNS(false, "localhost", "svc"), permitIP(false, "127.0.0.1/32"))},
	{name: "nc-intermediate-excluded-dns-critical", host: ip, mid: excludeDNS(true, "default.svc")},
	{name: "nc-intermediate-excluded-dns-noncritical", host: ip, mid: excludeDNS(false, "default.svc")},
	{name: "nc-intermediate-excluded-ip-noncritical", host: ip, mid: excludeIP(false, "127.0.0.0/24")},
	{name: "nc-intermediate-permitted-ip-other-noncritical", host: ip, mid: permitIP(false, "10.96.0.0/12")},
	{name: "nc-root-no-san-leaf", host: ip, root: permitDNS(true, "example.com"), leaf: sans(nil)},
	{name: "critical-unknown-ext-leaf", host: ip, leaf: crit},
	{name: "critical-unknown-ext-intermediate", host: ip, mid: crit},
	{name: "critical-unknown-ext-root", host: ip, root: crit},
	{name: "critical-eku-leaf", host: ip, leaf: critEKU(1)},
	// BearSSL's engine refuses these two critical extensions, which Go
	// handles: the step checks such chains' signatures itself. Forgeries,
	// dates and the other checks on that path:
	{name: "critical-eku-clientAuth-leaf", host: ip, leaf: critEKU(2)},
	{name: "critical-eku-leaf-forged-signature", host: ip, leaf: critEKU(1), forgeLeaf: true},
	{name: "critical-eku-leaf-wrong-ca", host: ip, leaf: critEKU(1), wrongRoot: true},
	{name: "critical-eku-leaf-expired", host: ip, leaf: all(critEKU(1), past)},
	{name: "critical-eku-leaf-not-yet-valid", host: ip, leaf: all(critEKU(1), future)},
	{name: "critical-eku-leaf-sha1", host: ip, leaf: critEKU(1), sha1: true},
	{name: "critical-eku-leaf-wrong-ip", host: ip, leaf: all(critEKU(1), sans(nil, "127.0.0.2"))},
	{name: "critical-eku-leaf-rsa-intermediate", host: ip, rsaLeaf: true, leaf: critEKU(1), mid: none},
	{name: "nc-critical-leaf-forged-signature", host: ip, mid: ncCrit, forgeLeaf: true},
	{name: "nc-critical-intermediate-forged", host: ip, mid: ncCrit, forgeMid: true},
	{name: "nc-critical-intermediate-expired", host: ip, mid: all(ncCrit, past)},
	{name: "nc-critical-intermediate-not-ca", host: ip, mid: all(ncCrit, func(c *x509.Certificate) { c.IsCA = false })},
	{name: "nc-critical-intermediate-not-sent", host: ip, mid: ncCrit, hideMid: true},
	{name: "nc-critical-two-intermediates", host: ip, mid: ncCrit, twoMids: true},
	{name: "nc-critical-pathlen-0-two-intermediates", host: ip, mid: all(ncCrit, pathLen(0)), twoMids: true},
	{name: "critical-policies-leaf", host: ip, leaf: func(c *x509.Certificate) {
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 32}, Critical: true,
			Value: []byte{0x30, 0x08, 0x30, 0x06, 0x06, 0x04, 0x55, 0x1d, 0x20, 0x00}})
	}},
	{name: "sha1-signed-leaf", host: ip, sha1: true},
	{name: "rsa-leaf", host: ip, rsaLeaf: true},
}

func build(dir string, s spec) {
	root := &cert{tmpl: ca("test-root-" + s.name), rsa: s.sha1}
	if s.rootNoCA {
		root.tmpl.IsCA, root.tmpl.BasicConstraintsValid = false, false
	}
	if s.root != nil {
		s.root(root.tmpl)
	}
	sign(root, nil)
	issuer := root
	var mids []*cert
	if s.mid != nil {
		m := &cert{tmpl: ca("test-intermediate")}
		s.mid(m.tmpl)
		if s.forgeMid {
			issuer = sign(m, sign(&cert{tmpl: ca(root.tmpl.Subject.CommonName)}, nil))
		} else {
			issuer = sign(m, root)
		}
		mids = append(mids, m)
		if s.twoMids {
			m2 := sign(&cert{tmpl: ca("test-intermediate-2")}, m)
			issuer = m2
			mids = append([]*cert{m2}, mids...)
		}
	}
	l := &cert{tmpl: leaf(), rsa: s.rsaLeaf}
	if s.sha1 {
		l.tmpl.SignatureAlgorithm = x509.SHA1WithRSA
	}
	if s.leaf != nil {
		s.leaf(l.tmpl)
	}
	if s.forgeLeaf {
		sign(l, sign(&cert{tmpl: ca(issuer.tmpl.Subject.CommonName)}, nil))
	} else {
		sign(l, issuer)
	}
	chain := []*cert{l}
	if !s.hideMid {
		chain = append(chain, mids...)
	}
	if s.extra {
		chain = append(chain, sign(&cert{tmpl: ca("unrelated")}, nil))
	}
	roots := []*cert{root}
	if s.wrongRoot {
		roots = []*cert{sign(&cert{tmpl: ca("test-root-" + s.name)}, nil)}
	}
	write(dir, s.name, s.host, roots, chain...)
}

func main() {
	var err error
	rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
	check(err)
	for _, s := range specs {
		build(os.Args[1], s)
	}
}
