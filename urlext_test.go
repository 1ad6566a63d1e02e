package s3dest_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// duplicatiExtOptions is every s3-ext- option Duplicati can write, with a
// value the AWS .NET SDK takes: the writable properties of AmazonS3Config
// and ClientConfig in the SDK v4 Duplicati uses, and those of SDK v3 that
// older configurations still carry.
var duplicatiExtOptions = map[string]string{
	// SDK v4.
	"forcepathstyle": "true", "useaccelerateendpoint": "false", "usearnregion": "false",
	"disables3expresssessionauth": "true", "disablemultiregionaccesspoints": "true",
	"serviceurl": "https://minio.example.com:9000", "usehttp": "false", "authenticationregion": "us-east-1",
	"authenticationservicename": "s3", "signaturemethod": "HmacSHA256", "maxerrorretry": "4",
	"retrymode": "Standard", "throttleretries": "True", "resignretries": "FALSE", "allowautoredirect": "false",
	"timeout": "00:05:00", "readwritetimeout": "00:01:00", "usedualstackendpoint": "false",
	"usefipsendpoint": "false", "buffersize": "8192", "logresponse": "false", "logmetrics": "false",
	"disablelogging": "true", "disablehostprefixinjection": "true", "endpointdiscoveryenabled": "false",
	"disablerequestcompression": "true", "clientappid": "duplicati", "usealternateuseragentheader": "false",
	"requestchecksumcalculation": "WHEN_REQUIRED", "responsechecksumvalidation": "WHEN_SUPPORTED",
	"accountidendpointmode": "DISABLED", "defaultconfigurationmode": "Standard", "cachehttpclient": "true",
	"httpclientcachesize": "1", "maxconnectionsperserver": "16", "proxyhost": "proxy.example.com",
	"proxyport": "3128", "proxycredentials": "whatever", "proxybypasslist": "localhost", "useragent": "Duplicati",
	// ClientConfig v4 properties beyond the list above.
	"connecttimeout": "00:00:10", "fastfailrequests": "false", "ignoreconfiguredendpointurls": "true",
	"endpointdiscoverycachelimit": "1000", "serviceid": "S3",
	// SDK v3.
	"signatureversion": "4", "readentireresponse": "false", "maxidletime": "50000", "connectionlimit": "16",
	"usenaglealgorithm": "false", "proxybypassonlocal": "true",
}

// TestURLExtAcceptsDuplicatiNames: every s3-ext- option a Duplicati
// configuration can carry opens, where s3dest knew eight and refused the
// rest as unknown options.
func TestURLExtAcceptsDuplicatiNames(t *testing.T) {
	for name, v := range duplicatiExtOptions {
		in := "s3://bucket/?s3-ext-" + name + "=" + v
		if name == "proxyhost" || name == "proxyport" { // the proxy takes both
			in = "s3://bucket/?s3-ext-proxyhost=proxy.example.com&s3-ext-proxyport=3128"
		}
		if _, err := s3dest.ParseURL(in); err != nil {
			t.Errorf("ParseURL(%q): %v, want it accepted, as Duplicati does", in, err)
		}
	}
	// All at once, in Duplicati's mixed case, as one configuration.
	var q []string
	for name, v := range duplicatiExtOptions {
		if name == "usehttp" || name == "serviceurl" {
			continue // they decide TLS: with the others, tested below
		}
		q = append(q, "S3-Ext-"+strings.ToUpper(name[:1])+name[1:]+"="+v)
	}
	if _, err := s3dest.ParseURL("s3://bucket/?" + strings.Join(q, "&")); err != nil {
		t.Errorf("ParseURL of every s3-ext- option at once: %v", err)
	}
}

// TestURLExtApplied: the s3-ext- options that mean something here set
// what they set in Duplicati, applied after its own options.
func TestURLExtApplied(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want s3dest.URL
	}{
		{"s3://bucket/?s3-ext-serviceurl=http://minio.lan:9000", s3dest.URL{Bucket: "bucket", ServerName: "http://minio.lan:9000"}},
		{"s3://bucket/?s3-server-name=s3.amazonaws.com&s3-ext-serviceurl=https://minio.lan:9000",
			s3dest.URL{Bucket: "bucket", ServerName: "https://minio.lan:9000"}},
		{"s3://bucket/?s3-ext-serviceurl=https://minio.lan:9000&s3-server-name=s3.amazonaws.com",
			s3dest.URL{Bucket: "bucket", ServerName: "https://minio.lan:9000"}},
		{"s3://bucket/?s3-ext-usehttp=true", s3dest.URL{Bucket: "bucket", UseSSL: urlBool(false)}},
		{"s3://bucket/?s3-ext-usehttp=False", s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
		{"s3://bucket/?use-ssl=false&s3-ext-usehttp=true", s3dest.URL{Bucket: "bucket", UseSSL: urlBool(false)}},
		{"s3://bucket/?s3-authentication-region=eu-west-1&s3-ext-authenticationregion=auto", s3dest.URL{Bucket: "bucket", AuthRegion: "auto"}},
		{"s3://bucket/?s3-ext-timeout=00:05:00", s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: 5 * time.Minute, List: 5 * time.Minute}}},
		{"s3://bucket/?s3-ext-timeout=00:00:10&short-timeout=30s&list-timeout=0",
			s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: 10 * time.Second, List: 10 * time.Second}}},
		{"s3://bucket/?s3-ext-timeout=1.00:00:00&short-timeout=30s",
			s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: 30 * time.Second, List: 24 * time.Hour}}},
		{"s3://bucket/?s3-ext-readwritetimeout=00:02:30.5", s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: 150500 * time.Millisecond}}},
		{"s3://bucket/?s3-ext-readwritetimeout=90", s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: 90 * time.Second}}},
		{"s3://bucket/?s3-ext-timeout=-00:00:00.0010000", s3dest.URL{Bucket: "bucket"}}, // .NET's infinite: no limit of its own
		{"s3://bucket/?s3-ext-connecttimeout=00:00:05", s3dest.URL{Bucket: "bucket", ConnectTimeout: 5 * time.Second}},
		{"s3://bucket/?s3-ext-proxyhost=proxy.lan&s3-ext-proxyport=3128", s3dest.URL{Bucket: "bucket", ProxyHost: "proxy.lan", ProxyPort: 3128}},
		{"s3://bucket/?s3-ext-maxconnectionsperserver=8", s3dest.URL{Bucket: "bucket", MaxConnsPerServer: 8}},
		{"s3://bucket/?s3-ext-connectionlimit=8", s3dest.URL{Bucket: "bucket", MaxConnsPerServer: 8}},
		{"s3://bucket/?s3-ext-maxerrorretry=1&s3-ext-forcepathstyle=true", s3dest.URL{Bucket: "bucket", MaxErrorRetry: urlInt(1), PathStyle: urlBool(true)}},
		{"s3://bucket/?s3-ext-logresponse=true&s3-ext-buffersize=65536", s3dest.URL{Bucket: "bucket"}},
	} {
		u, err := s3dest.ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if d := cmp.Diff(tc.want, *u, ignoreURLSecret); d != "" {
			t.Errorf("ParseURL(%q) (-want +got):\n%s", tc.in, d)
		}
		checkURLRoundTrip(t, u)
	}
}

// TestURLExtValues: values are checked as the AWS .NET SDK reads them
// (booleans true or false only, whole numbers, the names of an enum,
// TimeSpans), so a value Duplicati would refuse is refused here too; and a
// misspelt name is still an error with a suggestion.
func TestURLExtValues(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"s3://bucket/?s3-ext-usehttp=yes", "true or false"},
		{"s3://bucket/?s3-ext-usehttp", "true or false"},
		{"s3://bucket/?s3-ext-logresponse=1", "true or false"},
		{"s3://bucket/?s3-ext-buffersize=8k", "whole number"},
		{"s3://bucket/?s3-ext-maxconnectionsperserver=0", "s3-ext-maxconnectionsperserver"},
		{"s3://bucket/?s3-ext-connectionlimit=many", "s3-ext-connectionlimit"},
		{"s3://bucket/?s3-ext-retrymode=Fast", "Legacy, Standard or Adaptive"},
		{"s3://bucket/?s3-ext-signaturemethod=md5", "HmacSHA1 or HmacSHA256"},
		{"s3://bucket/?s3-ext-timeout=soon", "s3-ext-timeout"},
		{"s3://bucket/?s3-ext-timeout=00:00:00", "s3-ext-timeout"},
		{"s3://bucket/?s3-ext-timeout=25:00:00", "s3-ext-timeout"},
		{"s3://bucket/?s3-ext-readwritetimeout=-00:01:00", "s3-ext-readwritetimeout"},
		{"s3://bucket/?s3-ext-serviceurl=minio.lan:9000", "s3-ext-serviceurl"},
		{"s3://bucket/?s3-ext-serviceurl=ftp://minio.lan", "s3-ext-serviceurl"},
		{"s3://bucket/?s3-ext-serviceurl=https://minio.lan/s3", "s3-ext-serviceurl"},
		{"s3://bucket/?s3-ext-proxyhost=proxy.lan", "s3-ext-proxyport"},
		{"s3://bucket/?s3-ext-proxyport=3128", "s3-ext-proxyhost"},
		{"s3://bucket/?s3-ext-proxyhost=proxy.lan&s3-ext-proxyport=70000", "s3-ext-proxyport"},
		{"s3://bucket/?s3-ext-proxyhost=proxy%20lan&s3-ext-proxyport=3128", "s3-ext-proxyhost"},
		{"s3://bucket/?s3-ext-usehtp=true", "did you mean s3-ext-usehttp?"},
		{"s3://bucket/?s3-ext-maxconnectionperserver=8", "did you mean s3-ext-maxconnectionsperserver?"},
		{"s3://bucket/?s3-ext-signatureversio=4", "did you mean s3-ext-signatureversion?"},
	} {
		u, err := s3dest.ParseURL(tc.in)
		if err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", tc.in, *u)
			continue
		}
		checkURLError(t, err)
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseURL(%q) error %q does not contain %q", tc.in, err, tc.want)
		}
	}
}

// TestURLExtTLSContradictions: s3-ext-usehttp and the scheme of
// s3-ext-serviceurl override use-ssl in Duplicati; here an explicit setting
// they contradict is an error naming both, never a silent switch.
func TestURLExtTLSContradictions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"s3://bucket/?use-ssl=true&s3-ext-usehttp=true", []string{"s3-ext-usehttp", "use-ssl"}},
		{"s3s://bucket/?s3-ext-usehttp=true", []string{"s3-ext-usehttp", "s3s://"}},
		{"s3://bucket/?use-ssl=false&s3-ext-usehttp=false", []string{"s3-ext-usehttp", "use-ssl"}},
		{"s3://bucket/?use-ssl=true&s3-ext-serviceurl=http://minio.lan:9000", []string{"s3-ext-serviceurl", "use-ssl"}},
		{"s3://bucket/?s3-ext-usehttp=true&s3-ext-serviceurl=https://minio.lan:9000", []string{"s3-ext-serviceurl", "s3-ext-usehttp"}},
		{"s3s://bucket/?s3-ext-serviceurl=http://minio.lan", []string{"s3-ext-serviceurl", "s3s://"}},
	} {
		u, err := s3dest.ParseURL(tc.in)
		if err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", tc.in, *u)
			continue
		}
		checkURLError(t, err)
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseURL(%q) error %q does not name %s", tc.in, err, w)
			}
		}
	}
	// Agreeing settings are fine, and the service URL's scheme decides.
	for in, tls := range map[string]bool{
		"s3://bucket/?use-ssl=true&s3-ext-serviceurl=https://minio.lan":   true,
		"s3://bucket/?s3-ext-usehttp=true&s3-ext-serviceurl=http://minio": false,
		"s3://bucket/?s3-ext-serviceurl=http://minio.lan":                 false,
	} {
		d, err := s3dest.Open(t.Context(), in+"&aws-access-key-id=A&aws-secret-access-key=B")
		if err != nil {
			t.Errorf("Open(%q): %v", in, err)
			continue
		}
		if got := strings.HasPrefix(d.Endpoint(), "https://"); got != tls {
			t.Errorf("Open(%q).Endpoint() = %q, want TLS %v", in, d.Endpoint(), tls)
		}
	}
}

// TestURLExtNoEffectLogged: options that mean nothing here are accepted
// and New says so once, at Info, naming them (never their values).
func TestURLExtNoEffectLogged(t *testing.T) {
	srv := withBucket(t)
	var logs bytes.Buffer
	d, err := s3dest.Open(t.Context(), srv.URL(bucket, "p")+"&s3-ext-logresponse=true&s3-ext-buffersize=65536&s3-ext-proxycredentials="+
		urlSecret+"&s3-ext-maxerrorretry=1", s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	put(t, d, "vol", "data")
	out := logs.String()
	if n := strings.Count(out, "no effect"); n != 1 {
		t.Errorf("%d log lines say options have no effect, want 1:\n%s", n, out)
	}
	for _, name := range []string{"s3-ext-logresponse", "s3-ext-buffersize", "s3-ext-proxycredentials"} {
		if !strings.Contains(out, name) {
			t.Errorf("the log does not name %s:\n%s", name, out)
		}
	}
	if strings.Contains(out, "s3-ext-maxerrorretry") || !strings.Contains(out, "level=INFO") {
		t.Errorf("the log names an applied option, or not at Info:\n%s", out)
	}
	if leak := urlLeak(out, urlSecret); leak != "" {
		t.Errorf("the log shows the proxy credentials (%q):\n%s", leak, out)
	}
}

// TestURLExtProxy: s3-ext-proxyhost and s3-ext-proxyport send every
// request through that HTTP proxy. The fake serves requests in proxy form
// too, so it stands in for the proxy of a server that does not exist.
func TestURLExtProxy(t *testing.T) {
	srv := withBucket(t)
	host, port, _ := strings.Cut(srv.Addr, ":")
	d := mustOpen(t, "s3://"+bucket+"/?s3-server-name=http://s3.invalid:9000&s3-location-constraint=us-east-1"+
		"&aws-access-key-id="+s3test.AccessKey+"&aws-secret-access-key="+s3test.SecretKey+
		"&s3-ext-proxyhost="+host+"&s3-ext-proxyport="+port)
	put(t, d, "vol", "data")
	if got := get(t, d, "vol"); got != "data" {
		t.Errorf("Get through the proxy = %q", got)
	}
	for _, r := range srv.Requests() {
		if r.Host != "s3.invalid:9000" {
			t.Errorf("%s %s reached the proxy for host %q, want s3.invalid:9000", r.Method, r.Path, r.Host)
		}
	}
	if !strings.Contains(d.String(), "s3-ext-proxyhost="+host) || !strings.Contains(d.String(), "s3-ext-proxyport="+port) {
		t.Errorf("Destination.String() = %q lost the proxy", d.String())
	}
}

// TestURLExtTransportWithHTTPClient: WithHTTPClient's client is used as
// given, so the URL's transport settings do nothing; New says so.
func TestURLExtTransportWithHTTPClient(t *testing.T) {
	srv := withBucket(t)
	var logs bytes.Buffer
	d, err := s3dest.Open(t.Context(), srv.URL(bucket, "p")+"&s3-ext-proxyhost=proxy.invalid&s3-ext-proxyport=3128&s3-ext-connectionlimit=4",
		s3dest.WithHTTPClient(srv.HTTPClient()), s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	put(t, d, "vol", "data") // not through the proxy, which does not exist
	for _, name := range []string{"s3-ext-proxyhost", "s3-ext-maxconnectionsperserver"} {
		if !strings.Contains(logs.String(), name) {
			t.Errorf("the log does not say that %s has no effect with WithHTTPClient:\n%s", name, logs.String())
		}
	}
}
