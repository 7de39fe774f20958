// The certificates of the differential TLS test (run.py): for each case a
// directory with ca.crt (the roots the step and Go trust), chain.pem (what
// the fake API server presents, leaf first), key.pem (the leaf's key) and
// host (the name the client asks for). Standard library only.
//
//	go run gen.go OUTDIR     writes OUTDIR/CASE/..., prints the case names
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
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
	// Go's parser refuses it (a case made to be refused by Go)
	unparsable bool
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
	if !c.unparsable {
		check(err)
	}
	return c
}

// The parts of a certificate, for resigning a mutated TBS.
type rawCert struct {
	TBS asn1.RawValue
	Alg asn1.RawValue
	Sig asn1.BitString
}

// resign rewrites c's TBS with mut (whole TBS DER in and out) and signs
// it again with signer (ECDSA P-256 with SHA-256 or RSA PKCS#1 SHA-256,
// as c.der's outer algorithm says): for certificates Go will not make.
func resign(c *cert, signer crypto.Signer, mut func([]byte) []byte) {
	var r rawCert
	rest, err := asn1.Unmarshal(c.der, &r)
	check(err)
	if len(rest) != 0 {
		check(fmt.Errorf("trailing data"))
	}
	tbs := mut(append([]byte(nil), r.TBS.FullBytes...))
	h := sha256.Sum256(tbs)
	sig, err := signer.Sign(rand.Reader, h[:], crypto.SHA256)
	check(err)
	r.TBS = asn1.RawValue{FullBytes: tbs}
	r.Sig = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	c.der, err = asn1.Marshal(r)
	check(err)
}

// replace is a mutation: old (which must occur once) becomes new.
func replace(old, new []byte) func([]byte) []byte {
	return func(b []byte) []byte {
		if bytes.Count(b, old) != 1 {
			check(fmt.Errorf("replace: %x occurs %d times", old, bytes.Count(b, old)))
		}
		return bytes.Replace(b, old, new, 1)
	}
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
	// Attacks (tests/tlsdiff of the review of the link-by-link check):
	leafTBS, midTBS, rootTBS                      func([]byte) []byte // TBS rewritten, resigned
	unparsableLeaf, unparsableMid, unparsableRoot bool                // Go's parser refuses it
	// The server sends, as the intermediate, a CA certificate of the root
	// whose subject is the root's own Name (with another key, which signed
	// the leaf), changed by crossMid.
	crossMid func(*x509.Certificate)
	// ca.crt also holds (first) another CA of the root's Name, so changed.
	sameNameRoot       func(*x509.Certificate)
	selfSignedLeafInCA bool // the leaf signs itself and is ca.crt
}

// DER tag-length-value (short or long form).
func tlv(tag byte, v ...[]byte) []byte {
	body := bytes.Join(v, nil)
	n := len(body)
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, body...)
}

func rawExt(id asn1.ObjectIdentifier, critical bool, v []byte) func(*x509.Certificate) {
	return func(c *x509.Certificate) {
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: id, Critical: critical, Value: v})
	}
}

var (
	oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidNC  = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidBC  = asn1.ObjectIdentifier{2, 5, 29, 19}
	// GeneralName forms
	gnDNS = func(s string) []byte { return tlv(0x82, []byte(s)) }
	gnIP  = func(b ...byte) []byte { return tlv(0x87, b) }
	// a GeneralSubtree
	subtree = func(gn []byte) []byte { return tlv(0x30, gn) }
	// the usual leaf names, as a raw SAN value
	usualNames = [][]byte{gnDNS("localhost"), gnDNS("kubernetes.default.svc"), gnIP(127, 0, 0, 1)}
	sanRaw     = func(critical bool, names ...[]byte) func(*x509.Certificate) {
		return func(c *x509.Certificate) {
			c.DNSNames, c.IPAddresses = nil, nil
			rawExt(oidSAN, critical, tlv(0x30, names...))(c)
		}
	}
	ncRaw = func(critical bool, parts ...[]byte) func(*x509.Certificate) {
		return rawExt(oidNC, critical, tlv(0x30, parts...))
	}
	// 127.0.0.1 with mask 255.0.0.0: the address not masked (Go masks it
	// when it compares, RFC 5280 would have 127.0.0.0)
	hostBits8  = gnIP(127, 0, 0, 1, 255, 0, 0, 0)
	allowUsual = [][]byte{subtree(gnDNS("localhost")), subtree(gnDNS("kubernetes.default.svc")),
		subtree(gnIP(127, 0, 0, 0, 255, 0, 0, 0))}
	utcOf    = func(t time.Time) []byte { return []byte(t.UTC().Format("060102150405Z")) }
	feb31    = time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)
	notAfter = func(t time.Time) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.NotAfter = t }
	}
	notBefore = func(t time.Time) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.NotBefore = t }
	}
	ecdsaSHA256 = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}
	ecdsaSHA384 = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}
)

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

	// ---- attacks (review of the link-by-link check)
	// The first certificate of ca.crt's Name that the chain meets is not
	// necessarily the one that signed: BearSSL then goes on up the chain.
	{name: "attack-cross-same-name-intermediate-plain", host: ip, crossMid: none},
	{name: "attack-cross-same-name-intermediate-clientAuth", host: ip, crossMid: eku(clientAuth)},
	{name: "attack-cross-same-name-intermediate-excluded-ip", host: ip, crossMid: excludeIP(false, "127.0.0.0/8")},
	{name: "attack-cross-same-name-intermediate-permitted-other", host: ip, crossMid: permitDNS(false, "example.com")},
	{name: "attack-cross-same-name-intermediate-critical-eku-clientAuth", host: ip, crossMid: critEKU(2)},
	// name constraints: an IP constraint whose address has bits outside its mask
	{name: "attack-nc-root-excluded-ip-host-bits", host: ip, root: ncRaw(true, tlv(0xa1, subtree(hostBits8)))},
	{name: "attack-nc-root-excluded-ip-host-bits-noncritical", host: ip, root: ncRaw(false, tlv(0xa1, subtree(hostBits8)))},
	{name: "attack-nc-intermediate-excluded-ip-host-bits-critical", host: ip, mid: ncRaw(true, tlv(0xa1, subtree(hostBits8)))},
	{name: "attack-nc-root-permitted-ip-host-bits", host: ip, root: ncRaw(true, tlv(0xa0, subtree(hostBits8)))},
	// name constraints Go's parser refuses: [1] before [0], [0] twice
	{name: "attack-nc-root-excluded-before-permitted", host: ip, unparsableRoot: true,
		root: ncRaw(true, tlv(0xa1, subtree(gnDNS("example.com"))), tlv(0xa0, allowUsual...))},
	{name: "attack-nc-root-permitted-twice", host: ip, unparsableRoot: true,
		root: ncRaw(true, tlv(0xa0, subtree(gnDNS("example.com"))), tlv(0xa0, allowUsual...))},
	{name: "attack-nc-intermediate-permitted-twice-critical", host: ip, unparsableMid: true,
		mid: ncRaw(true, tlv(0xa0, subtree(gnDNS("example.com"))), tlv(0xa0, allowUsual...))},
	{name: "attack-nc-root-empty-permitted-with-excluded", host: ip,
		root: ncRaw(true, tlv(0xa0), tlv(0xa1, subtree(gnDNS("example.com"))))},
	{name: "attack-nc-root-excluded-dot-domain", host: dns, root: excludeDNS(true, ".localhost")},
	{name: "attack-nc-root-excluded-empty-domain", host: dns, root: excludeDNS(true, "")},
	{name: "attack-nc-root-excluded-dns-upper-case", host: dns, root: excludeDNS(true, "LOCALHOST")},
	{name: "attack-nc-root-permitted-dns-upper-case", host: dns, root: permitDNS(true, "LOCALHOST", "Kubernetes.Default.SVC"), leaf: sans([]string{"localhost", "kubernetes.default.svc"})},
	// Go checks every SAN of the chain below a constrained CA, not the leaf's only
	{name: "attack-nc-root-intermediate-san-outside", host: ip,
		root: all(permitDNS(false, "localhost", "kubernetes.default.svc"), permitIP(false, "127.0.0.0/8")),
		mid:  func(c *x509.Certificate) { c.DNSNames = []string{"evil.example"} }},
	// under any name constraints Go refuses a dNSName it cannot parse
	{name: "attack-nc-root-dirname-only-leaf-bad-dns", host: ip,
		root: ncRaw(false, tlv(0xa0, subtree(tlv(0xa4, tlv(0x30))))),
		leaf: sanRaw(false, gnDNS("bad..name"), gnIP(127, 0, 0, 1))},
	// SAN edge cases
	{name: "attack-san-ipv4-mapped-ipv6", host: ip, leaf: sanRaw(false, gnIP(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1))},
	{name: "attack-san-ipv4-mapped-under-excluded-v4", host: ip, root: excludeIP(true, "127.0.0.0/8"),
		leaf: sanRaw(false, gnIP(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1))},
	{name: "attack-san-ip-of-5-bytes", host: ip, unparsableLeaf: true, leaf: sanRaw(false, gnIP(1, 2, 3, 4, 5), gnIP(127, 0, 0, 1))},
	{name: "attack-san-twice", host: ip, unparsableLeaf: true,
		leaf: all(sanRaw(false, gnDNS("other.example")), rawExt(oidSAN, false, tlv(0x30, usualNames...)))},
	{name: "attack-san-twice-critical-eku", host: ip, unparsableLeaf: true,
		leaf: all(critEKU(1), sanRaw(false, gnDNS("other.example")), rawExt(oidSAN, false, tlv(0x30, usualNames...)))},
	{name: "attack-san-critical-only-othername", host: ip, leaf: sanRaw(true, tlv(0xa0, tlv(0x06, []byte{0x2b, 6, 1}), tlv(0xa0, tlv(0x0c, []byte("x")))))},
	{name: "attack-san-critical-with-ip", host: ip, leaf: sanRaw(true, usualNames...)},
	// extended key usage
	{name: "attack-eku-netscape-sgc", host: ip, leaf: eku(x509.ExtKeyUsageNetscapeServerGatedCrypto)},
	{name: "attack-eku-microsoft-sgc", host: ip, leaf: eku(x509.ExtKeyUsageMicrosoftServerGatedCrypto)},
	// the signature algorithm in the TBS is not the outer one
	{name: "attack-sig-inner-outer-mismatch", host: ip, leafTBS: replace(ecdsaSHA256, ecdsaSHA384), unparsableLeaf: true},
	{name: "attack-sig-inner-outer-mismatch-critical-eku", host: ip, leaf: critEKU(1), leafTBS: replace(ecdsaSHA256, ecdsaSHA384), unparsableLeaf: true},
	// dates: 31 February
	{name: "attack-time-leaf-not-after-feb-31", host: ip, leaf: notAfter(feb31), leafTBS: replace(utcOf(feb31), []byte("300231000000Z")), unparsableLeaf: true},
	{name: "attack-time-leaf-not-after-feb-31-critical-eku", host: ip, leaf: all(critEKU(1), notAfter(feb31)), leafTBS: replace(utcOf(feb31), []byte("300231000000Z")), unparsableLeaf: true},
	// on the link-by-link path BearSSL never reads the intermediate
	{name: "attack-time-intermediate-not-after-feb-31-critical-eku-leaf", host: ip, leaf: critEKU(1), unparsableMid: true,
		mid: notAfter(feb31), midTBS: replace(utcOf(feb31), []byte("300231000000Z"))},
	{name: "attack-time-intermediate-not-after-feb-31", host: ip, unparsableMid: true,
		mid: notAfter(feb31), midTBS: replace(utcOf(feb31), []byte("300231000000Z"))},
	{name: "attack-sig-inner-outer-mismatch-intermediate-critical-eku-leaf", host: ip, leaf: critEKU(1), unparsableMid: true,
		mid: none, midTBS: replace(ecdsaSHA256, ecdsaSHA384)},
	{name: "attack-time-root-not-before-feb-30", host: ip, root: notBefore(time.Date(2020, 1, 30, 0, 0, 0, 0, time.UTC)), rootTBS: replace([]byte("200130000000Z"), []byte("200230000000Z")), unparsableRoot: true},
	{name: "attack-time-root-not-after-apr-31", host: ip, root: notAfter(time.Date(2030, 3, 31, 0, 0, 0, 0, time.UTC)), rootTBS: replace([]byte("300331000000Z"), []byte("300431000000Z")), unparsableRoot: true},
	// BOOLEANs Go refuses: critical 01, cA 01
	{name: "attack-critical-boolean-01-eku", host: ip, unparsableLeaf: true,
		leaf:    all(critEKU(1), func(c *x509.Certificate) { c.BasicConstraintsValid, c.KeyUsage = false, 0 }),
		leafTBS: replace([]byte{0x01, 0x01, 0xff}, []byte{0x01, 0x01, 0x01})},
	{name: "attack-bc-ca-boolean-01-intermediate", host: ip, unparsableMid: true,
		mid: rawExt(oidBC, true, []byte{0x30, 0x03, 0x01, 0x01, 0x01})},
	{name: "attack-bc-pathlen-not-minimal-intermediate", host: ip, unparsableMid: true,
		mid: rawExt(oidBC, true, []byte{0x30, 0x07, 0x01, 0x01, 0xff, 0x02, 0x02, 0x00, 0x05})},
	{name: "attack-bc-pathlen-negative-root-two-intermediates", host: ip, mid: none, twoMids: true,
		root: rawExt(oidBC, true, []byte{0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0xff})},
	{name: "attack-bc-pathlen-on-non-ca-root", host: ip, rootNoCA: true,
		root: rawExt(oidBC, true, []byte{0x30, 0x03, 0x02, 0x01, 0x05})},
	// ca.crt with two CAs of one Name (a CA rotation), one expired
	{name: "attack-two-roots-same-name-one-expired", host: ip, sameNameRoot: past},
	{name: "attack-two-roots-same-name-other-clientAuth", host: ip, sameNameRoot: eku(clientAuth)},
	// a self-signed leaf that is ca.crt
	{name: "attack-self-signed-leaf-in-ca", host: ip, selfSignedLeafInCA: true},
	{name: "attack-self-signed-leaf-in-ca-critical-eku", host: ip, selfSignedLeafInCA: true, leaf: critEKU(1)},
	{name: "attack-self-signed-leaf-in-ca-expired", host: ip, selfSignedLeafInCA: true, leaf: past},
	{name: "attack-self-signed-leaf-in-ca-critical-eku-expired", host: ip, selfSignedLeafInCA: true, leaf: all(critEKU(1), past)},
	{name: "attack-self-signed-leaf-not-in-ca-critical-eku", host: ip, leaf: critEKU(1), forgeLeaf: true, wrongRoot: true},
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
	root.unparsable = s.unparsableRoot
	sign(root, nil)
	rootObj := root.obj
	if s.rootTBS != nil {
		resign(root, root.key, s.rootTBS)
	}
	if root.obj == nil {
		// the children name it as its template does
		root.obj = &x509.Certificate{}
		*root.obj = *root.tmpl
		root.obj.PublicKey = root.key.Public()
	}
	_ = rootObj
	issuer := root
	var mids []*cert
	if s.crossMid != nil {
		cn := root.tmpl.Subject.CommonName
		other := sign(&cert{tmpl: ca(cn)}, nil)
		x := &cert{tmpl: ca(cn), key: other.key}
		s.crossMid(x.tmpl)
		sign(x, root)
		issuer = other
		mids = append(mids, x)
	}
	if s.mid != nil {
		m := &cert{tmpl: ca("test-intermediate"), unparsable: s.unparsableMid}
		s.mid(m.tmpl)
		if s.forgeMid {
			issuer = sign(m, sign(&cert{tmpl: ca(root.tmpl.Subject.CommonName)}, nil))
		} else {
			issuer = sign(m, root)
		}
		if s.midTBS != nil {
			resign(m, root.key, s.midTBS)
		}
		if m.obj == nil {
			m.obj = &x509.Certificate{}
			*m.obj = *m.tmpl
			m.obj.PublicKey = m.key.Public()
		}
		mids = append(mids, m)
		if s.twoMids {
			m2 := sign(&cert{tmpl: ca("test-intermediate-2")}, m)
			issuer = m2
			mids = append([]*cert{m2}, mids...)
		}
	}
	l := &cert{tmpl: leaf(), rsa: s.rsaLeaf, unparsable: s.unparsableLeaf}
	if s.sha1 {
		l.tmpl.SignatureAlgorithm = x509.SHA1WithRSA
	}
	if s.leaf != nil {
		s.leaf(l.tmpl)
	}
	if s.selfSignedLeafInCA {
		sign(l, nil)
	} else if s.forgeLeaf {
		sign(l, sign(&cert{tmpl: ca(issuer.tmpl.Subject.CommonName)}, nil))
	} else {
		sign(l, issuer)
	}
	if s.leafTBS != nil {
		resign(l, issuer.key, s.leafTBS)
	}
	chain := []*cert{l}
	if !s.hideMid {
		chain = append(chain, mids...)
	}
	if s.extra {
		chain = append(chain, sign(&cert{tmpl: ca("unrelated")}, nil))
	}
	roots := []*cert{root}
	if s.sameNameRoot != nil {
		other := &cert{tmpl: ca(root.tmpl.Subject.CommonName)}
		s.sameNameRoot(other.tmpl)
		roots = []*cert{sign(other, nil), root}
	}
	if s.selfSignedLeafInCA {
		roots = []*cert{l}
	}
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
