package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/minio/minio-go/v7"

	"github.com/s3dest/s3dest/s3test"
)

// Every contestant family (s3dest, the SDK, the transfer manager,
// minio-go) gets an http.Transport of its own, so that each family's
// connections can be counted; with -transport shared (the default) they
// are built by the same function with the same settings and the same
// root CAs, so that only the client code differs. With -transport lib
// each family gets its library's default transport (the SDK's buildable
// client, minio-go's DefaultTransport), with only the root CAs and the
// connection counter added: what a user who changes nothing gets.
//
// Nothing here reads AWS_CA_BUNDLE or SSL_CERT_FILE: the roots are those of
// -cacert, or of the in-process server's own CA, for every family alike.

// dialCounter counts the connections a transport opened.
type dialCounter struct{ n atomic.Int64 }

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (c *dialCounter) wrap(dial dialFunc) dialFunc {
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.n.Add(1)
		return dial(ctx, network, addr)
	}
}

// sharedTransport is the transport of every family with -transport shared:
// the SDK's default settings, with MaxIdleConnsPerHost raised to
// -idle-per-host (the SDK's 10 is below the small phases' 16 workers),
// compression off (as minio-go has it; object bodies are opaque) and
// HTTP/1.1 (the loopback servers speak nothing else).
func sharedTransport(roots *x509.CertPool, c *dialCounter) *http.Transport {
	t := &http.Transport{
		DialContext:           c.wrap(nil),
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   *idlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return t
}

// sdkHTTPClient is the HTTP client of an SDK-based family (s3dest, raw SDK,
// transfer manager).
func sdkHTTPClient(roots *x509.CertPool, c *dialCounter) aws.HTTPClient {
	if *transportMode == "shared" {
		return &http.Client{Transport: sharedTransport(roots, c)}
	}
	// The SDK's default client, as s3dest builds it for AWS_CA_BUNDLE.
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.Proxy = nil
		t.DialContext = c.wrap(t.DialContext)
		if roots != nil {
			t.TLSClientConfig.RootCAs = roots
		}
	})
}

// minioTransport is minio-go's transport.
func minioTransport(roots *x509.CertPool, c *dialCounter) (http.RoundTripper, error) {
	if *transportMode == "shared" {
		return sharedTransport(roots, c), nil
	}
	t, err := minio.DefaultTransport(roots != nil)
	if err != nil {
		return nil, err
	}
	t.Proxy = nil
	t.DialContext = c.wrap(t.DialContext)
	if roots != nil {
		t.TLSClientConfig.RootCAs = roots
	}
	return t, nil
}

// loadRoots reads a PEM bundle of CA certificates.
func loadRoots(path string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// pki is a CA of the bench's own and a server certificate it signed for
// 127.0.0.1, ::1 and localhost.
type pki struct {
	caPEM, certPEM, keyPEM []byte
}

func newPKI() (*pki, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "s3dest bench CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &pki{
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// writeTo writes ca.pem, cert.pem and key.pem into dir: cert.pem and
// key.pem are what .ci/start-versitygw.sh with S3_TLS=1 serves when they
// exist (its make_cert keeps them), ca.pem is the bench's -cacert.
func (p *pki) writeTo(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"ca.pem": p.caPEM, "cert.pem": p.certPEM, "key.pem": p.keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// startFake serves the in-process fake over HTTP, or over TLS with a
// certificate of the bench's own CA; it returns the URL, the roots that
// trust it (nil over HTTP) and a function that stops it.
func startFake(useTLS bool) (string, *x509.CertPool, func(), error) {
	fake := s3test.NewServer() // its own plain listener stays idle: the handler is served below
	srv := httptest.NewUnstartedServer(http.HandlerFunc(fake.ServeFake))
	stop := func() { srv.Close(); fake.Close() }
	if !useTLS {
		srv.Start()
		return srv.URL, nil, stop, nil
	}
	p, err := newPKI()
	if err != nil {
		return "", nil, nil, err
	}
	cert, err := tls.X509KeyPair(p.certPEM, p.keyPEM)
	if err != nil {
		return "", nil, nil, err
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.caPEM)
	return srv.URL, roots, stop, nil
}
