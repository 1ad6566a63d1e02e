package s3dest

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The s3-ext-* options. Duplicati turns every writable property of the AWS
// .NET SDK's AmazonS3Config (and of its base, ClientConfig) into an option
// named s3-ext- and the property's name in lower case, and sets those
// properties after its own settings: s3-ext-serviceurl, s3-ext-usehttp and
// s3-ext-authenticationregion override s3-server-name, use-ssl and
// s3-authentication-region. It reads their values as .NET does: a bool is
// true or false in any case, an int a whole number, an enum one of its
// names in any case (or a number), a TimeSpan .NET's [d.]hh:mm[:ss[.f]]
// (00:05:00, 1.00:00:00) or Duplicati's own span (300 seconds, 5m).
//
// extOptions holds every name Duplicati can produce: the properties of the
// SDK v4 it uses now, and those of SDK v3 that older configurations still
// carry (signatureversion, readentireresponse, maxidletime,
// connectionlimit, usenaglealgorithm, proxybypassonlocal). The ones that
// mean something for a Go S3 client are applied. The others are accepted,
// so that a configuration Duplicati takes opens here too, recorded in
// URL.ignored, and logged once by New (at Info): each entry says why it
// has no effect. The README's "Coming from Duplicati" has the same table.
var extOptions = []urlOption{
	// Applied: endpoints and addressing.
	{name: "s3-ext-forcepathstyle",
		set: func(s *parseState, v string) error { return parseBoolPtr(v, &s.u.PathStyle) },
		get: func(u *URL) (string, bool) { return fmtBoolPtr(u.PathStyle) }},
	{name: "s3-ext-usedualstackendpoint",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.DualStack) },
		get: func(u *URL) (string, bool) { return "true", u.DualStack }},
	{name: "s3-ext-usefipsendpoint",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.FIPS) },
		get: func(u *URL) (string, bool) { return "true", u.FIPS }},
	{name: "s3-ext-useaccelerateendpoint",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.Accelerate) },
		get: func(u *URL) (string, bool) { return "true", u.Accelerate }},
	// Applied: retries and checksums.
	{name: "s3-ext-maxerrorretry",
		set: func(s *parseState, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100 {
				return fmt.Errorf("must be a whole number from 0 to 100")
			}
			s.u.MaxErrorRetry = &n
			return nil
		},
		get: func(u *URL) (string, bool) {
			if u.MaxErrorRetry == nil {
				return "", false
			}
			return strconv.Itoa(*u.MaxErrorRetry), true
		}},
	{name: "s3-ext-requestchecksumcalculation",
		set: func(s *parseState, v string) error { return parseChecksumMode(v, &s.u.RequestChecksum) },
		get: func(u *URL) (string, bool) { return u.RequestChecksum, u.RequestChecksum != "" }},
	{name: "s3-ext-responsechecksumvalidation",
		set: func(s *parseState, v string) error { return parseChecksumMode(v, &s.u.ResponseChecksum) },
		get: func(u *URL) (string, bool) { return u.ResponseChecksum, u.ResponseChecksum != "" }},
	// Applied: the HTTP transport.
	{name: "s3-ext-proxyhost",
		set: func(s *parseState, v string) error {
			if !validHost(v) {
				return fmt.Errorf("must be the host name or IP address of an HTTP proxy")
			}
			s.u.ProxyHost = v
			return nil
		},
		get: func(u *URL) (string, bool) { return u.ProxyHost, u.ProxyHost != "" }},
	{name: "s3-ext-proxyport",
		set: func(s *parseState, v string) error {
			return parseNetInt(v, 1, 65535, &s.u.ProxyPort)
		},
		get: func(u *URL) (string, bool) { return strconv.Itoa(u.ProxyPort), u.ProxyPort != 0 }},
	{name: "s3-ext-maxconnectionsperserver", alias: []string{"s3-ext-connectionlimit"}, // connectionlimit: SDK v3's name
		set: func(s *parseState, v string) error {
			return parseNetInt(v, 1, 1<<20, &s.u.MaxConnsPerServer)
		},
		get: func(u *URL) (string, bool) { return strconv.Itoa(u.MaxConnsPerServer), u.MaxConnsPerServer != 0 }},
	{name: "s3-ext-connecttimeout",
		set: func(s *parseState, v string) error {
			d, err := parseNetTimeout(v)
			if d > 0 {
				s.u.ConnectTimeout = d
			}
			return err
		},
		get: func(u *URL) (string, bool) { return u.ConnectTimeout.String(), u.ConnectTimeout > 0 }},
	// Applied through Duplicati's own options (their get writes them):
	// resolved by applyExt once every option is read.
	{name: "s3-ext-serviceurl",
		set: func(s *parseState, v string) error {
			if err := checkServiceURL(v); err != nil {
				return err
			}
			s.ext.serviceURL = &v
			return nil
		}},
	{name: "s3-ext-usehttp",
		set: func(s *parseState, v string) error {
			var b bool
			if err := parseNetBool(v, &b); err != nil {
				return err
			}
			s.ext.useHTTP = &b
			return nil
		}},
	{name: "s3-ext-authenticationregion",
		set: func(s *parseState, v string) error { s.ext.authRegion = &v; return nil }},
	{name: "s3-ext-timeout",
		set: func(s *parseState, v string) error {
			var err error
			s.ext.timeout, err = parseNetTimeout(v)
			return err
		}},
	{name: "s3-ext-readwritetimeout",
		set: func(s *parseState, v string) error {
			var err error
			s.ext.readWrite, err = parseNetTimeout(v)
			return err
		}},

	// Accepted, no effect.
	noEffect("s3-ext-usearnregion", netBool),                                // s3dest takes bucket names, never ARNs
	noEffect("s3-ext-disablemultiregionaccesspoints", netBool),              // likewise: access points are ARNs
	noEffect("s3-ext-disables3expresssessionauth", netBool),                 // the SDK's default; WithS3Options sets it
	noEffect("s3-ext-authenticationservicename", netString),                 // SigV4 for service s3, always
	noEffect("s3-ext-signaturemethod", netEnum("HmacSHA1", "HmacSHA256")),   // SigV4 is HMAC-SHA256
	noEffect("s3-ext-signatureversion", netString),                          // SDK v3; s3dest signs SigV4 only
	noEffect("s3-ext-retrymode", netEnum("Legacy", "Standard", "Adaptive")), // s3dest's own retryer
	noEffect("s3-ext-throttleretries", netBool),                             // s3dest never throttles its retries
	noEffect("s3-ext-fastfailrequests", netBool),                            // adaptive retries only
	noEffect("s3-ext-resignretries", netBool),                               // every try is signed anew
	noEffect("s3-ext-allowautoredirect", netBool),                           // regions are healed instead
	noEffect("s3-ext-buffersize", netInt),                                   // .NET stream buffers
	noEffect("s3-ext-readentireresponse", netBool),                          // SDK v3, .NET streams
	noEffect("s3-ext-logresponse", netBool),                                 // .NET SDK logging: see WithLogger
	noEffect("s3-ext-logmetrics", netBool),
	noEffect("s3-ext-disablelogging", netBool),
	noEffect("s3-ext-disablehostprefixinjection", netBool), // no S3 call s3dest makes has a host prefix
	noEffect("s3-ext-endpointdiscoveryenabled", netBool),   // S3 has no endpoint discovery
	noEffect("s3-ext-endpointdiscoverycachelimit", netInt),
	noEffect("s3-ext-ignoreconfiguredendpointurls", netBool), // s3dest reads no endpoint from the environment
	noEffect("s3-ext-disablerequestcompression", netBool),    // no S3 call s3dest makes is compressed
	noEffect("s3-ext-clientappid", netString),                // user agent
	noEffect("s3-ext-useragent", netString),
	noEffect("s3-ext-usealternateuseragentheader", netBool),
	noEffect("s3-ext-serviceid", netString),
	noEffect("s3-ext-accountidendpointmode", netEnum("PREFERRED", "DISABLED", "REQUIRED")), // DynamoDB's
	noEffect("s3-ext-defaultconfigurationmode", netEnum("Legacy", "Standard", "InRegion", "CrossRegion", "Mobile", "Auto")),
	noEffect("s3-ext-cachehttpclient", netBool), // one HTTP client per Destination, always
	noEffect("s3-ext-httpclientcachesize", netInt),
	noEffect("s3-ext-maxidletime", netInt),         // SDK v3; idle connections close after 90s
	noEffect("s3-ext-usenaglealgorithm", netBool),  // SDK v3; Go turns Nagle off
	noEffect("s3-ext-proxybypasslist", netString),  // every request goes through the proxy
	noEffect("s3-ext-proxybypassonlocal", netBool), // SDK v3; likewise
	{name: "s3-ext-proxycredentials", secret: true, // .NET ICredentials, no string: Duplicati cannot set it either
		set: func(s *parseState, _ string) error { s.noEffect("s3-ext-proxycredentials"); return nil }},
}

// knownOptions are all the options ParseURL reads, in the order String
// writes them.
var knownOptions = slices.Concat(urlOptions, extOptions)

// extState holds the s3-ext-* values applyExt resolves against Duplicati's
// own options.
type extState struct {
	serviceURL, authRegion *string
	useHTTP                *bool
	timeout, readWrite     time.Duration // 0: not given, or .NET's infinite
}

// applyExt applies what the s3-ext-* options override, after all options
// are read, as Duplicati does. What Duplicati would let an override decide
// silently against an explicit use-ssl (or s3s://) is an error here.
func (s *parseState) applyExt() error {
	e, u := &s.ext, s.u
	tlsFrom := "use-ssl=" + fmtBool(u.UseSSL)
	if s.s3s {
		tlsFrom = "s3s://"
	}
	if e.useHTTP != nil {
		tls := !*e.useHTTP
		if u.UseSSL != nil && *u.UseSSL != tls {
			return fmt.Errorf("s3-ext-usehttp=%t contradicts %s: give one of them", *e.useHTTP, tlsFrom)
		}
		u.UseSSL, tlsFrom = &tls, fmt.Sprintf("s3-ext-usehttp=%t", *e.useHTTP)
	}
	if e.serviceURL != nil {
		// Its scheme decides TLS, as a scheme in s3-server-name does.
		scheme := serverScheme(*e.serviceURL)
		if u.UseSSL != nil && (scheme == "https") != *u.UseSSL {
			return fmt.Errorf("s3-ext-serviceurl %s://... contradicts %s: give one of them", scheme, tlsFrom)
		}
		u.ServerName = *e.serviceURL
	}
	if e.authRegion != nil && *e.authRegion != "" {
		u.AuthRegion = *e.authRegion
	}
	// The .NET timeouts bound each request together with Duplicati's own:
	// the shorter applies. s3dest bounds requests that move no data as a
	// whole (short-timeout, list-timeout) and those that move a body by
	// idle time (read-write-timeout).
	if e.timeout > 0 {
		u.Timeouts.Short = shorterTimeout(u.Timeouts.Short, e.timeout)
		u.Timeouts.List = shorterTimeout(u.Timeouts.List, e.timeout)
	}
	if e.readWrite > 0 {
		u.Timeouts.ReadWrite = shorterTimeout(u.Timeouts.ReadWrite, e.readWrite)
	}
	switch {
	case u.ProxyHost != "" && u.ProxyPort == 0:
		return fmt.Errorf("s3-ext-proxyhost needs s3-ext-proxyport: give the proxy's port too")
	case u.ProxyHost == "" && u.ProxyPort != 0:
		return fmt.Errorf("s3-ext-proxyport needs s3-ext-proxyhost: give the proxy's host too")
	}
	return nil
}

// shorterTimeout is the limit of two that both apply: a URL timeout (0:
// not given, NoTimeout: none) and a positive one.
func shorterTimeout(given, other time.Duration) time.Duration {
	if given <= 0 {
		return other
	}
	return min(given, other)
}

func fmtBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// noEffect is an s3-ext-* option that means nothing for s3dest: its value
// is checked as the SDK would check it, and its name recorded.
func noEffect(name string, check func(string) error) urlOption {
	return urlOption{name: name, set: func(s *parseState, v string) error {
		if err := check(v); err != nil {
			return err
		}
		s.noEffect(name)
		return nil
	}}
}

func (s *parseState) noEffect(name string) {
	if !slices.Contains(s.u.ignored, name) {
		s.u.ignored = append(s.u.ignored, name)
	}
}

func netString(string) error { return nil }

func netBool(v string) error {
	var b bool
	return parseNetBool(v, &b)
}

func netInt(v string) error {
	var n int
	return parseNetInt(v, -1<<31, 1<<31-1, &n)
}

// parseNetBool reads a .NET bool: true or false, in any case, and nothing
// else (Duplicati's own options also take 1, yes, on and an empty value).
func parseNetBool(v string, dst *bool) error {
	switch strings.ToLower(v) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		return fmt.Errorf("must be true or false (the SDK's settings take no other spelling)")
	}
	return nil
}

func parseNetInt(v string, lo, hi int, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
	}
	*dst = n
	return nil
}

// netEnum checks a .NET enum: one of its names in any case, or a number.
func netEnum(names ...string) func(string) error {
	return func(v string) error {
		if _, err := strconv.Atoi(v); err == nil {
			return nil
		}
		for _, n := range names {
			if strings.EqualFold(v, n) {
				return nil
			}
		}
		return fmt.Errorf("must be %s or %s", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
	}
}

// checkServiceURL checks an endpoint given as .NET's ServiceURL: an
// absolute http or https URL of a server, without a path (S3 addresses
// buckets below the root).
func checkServiceURL(v string) error {
	bad := fmt.Errorf("must be http://host[:port] or https://host[:port], without a path")
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return bad
	}
	if _, _, err := parseServerName(v); err != nil {
		return bad
	}
	return nil
}

// maxNetTimeout is the longest timeout the .NET SDK takes: int.MaxValue
// milliseconds, 24.8 days.
const maxNetTimeout = (1<<31 - 1) * time.Millisecond

// parseNetTimeout reads a .NET TimeSpan timeout: positive and at most
// maxNetTimeout, or .NET's infinite (-00:00:00.001), which sets no limit
// of its own and reads as 0.
func parseNetTimeout(v string) (time.Duration, error) {
	d, err := parseNetSpan(v)
	switch {
	case err != nil:
		return 0, err
	case d == -time.Millisecond:
		return 0, nil
	case d <= 0 || d > maxNetTimeout:
		return 0, fmt.Errorf("must be more than 0 and at most 24.20:31:23.647")
	}
	return d, nil
}

// parseNetSpan reads a time span as .NET writes a TimeSpan,
// [-][d.]hh:mm[:ss[.fffffff]] or [-]d:hh:mm:ss[.fffffff], or as Duplicati
// writes its own (parseSpan: 300 is seconds, 5m, 1h30m, 2D).
func parseNetSpan(v string) (time.Duration, error) {
	if !strings.Contains(v, ":") {
		return parseSpan(v, maxNetTimeout)
	}
	bad := fmt.Errorf("not a time span: use .NET's form (00:05:00, 1.00:00:00) or a number of seconds")
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(v, "-")
	var days, frac string
	if i, j := strings.Index(v, "."), strings.Index(v, ":"); i >= 0 && i < j {
		days, v = v[:i], v[i+1:]
	}
	if i, j := strings.LastIndex(v, "."), strings.LastIndex(v, ":"); i > j {
		v, frac = v[:i], v[i+1:]
	}
	parts := strings.Split(v, ":")
	if len(parts) == 4 && days == "" {
		days, parts = parts[0], parts[1:]
	}
	if len(parts) < 2 || len(parts) > 3 || len(frac) > 7 || (frac != "" && len(parts) != 3) {
		return 0, bad
	}
	num := func(s string, limit int64) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && s != "" && s[0] != '+' && s[0] != '-' && n < limit
	}
	var total time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second}[:len(parts)] {
		n, ok := num(parts[i], []int64{24, 60, 60}[i])
		if !ok || len(parts[i]) > 2 {
			return 0, bad
		}
		total += time.Duration(n) * unit
	}
	if days != "" {
		n, ok := num(days, int64(maxNetTimeout/(24*time.Hour))+1)
		if !ok {
			return 0, bad
		}
		total += time.Duration(n) * 24 * time.Hour
	}
	if frac != "" {
		n, ok := num(frac, 1e7)
		if !ok {
			return 0, bad
		}
		for range 7 - len(frac) {
			n *= 10
		}
		total += time.Duration(n) * 100 // ticks of 100ns
	}
	if neg {
		total = -total
	}
	return total, nil
}

// noEffectLog names the options that have no effect on this destination:
// the URL's s3-ext-* options that mean nothing here, and those for the
// HTTP transport when WithHTTPClient gives a client of its own.
func (c *config) noEffectLog() []string {
	out := slices.Clone(c.ignoredOptions)
	if c.httpClient != nil {
		if c.proxy != "" {
			out = append(out, "s3-ext-proxyhost", "s3-ext-proxyport")
		}
		if c.maxConnsPerHost != 0 {
			out = append(out, "s3-ext-maxconnectionsperserver")
		}
		if c.connectTimeout != 0 {
			out = append(out, "s3-ext-connecttimeout")
		}
	}
	return out
}

// setTransportURL writes the transport settings of c into u, for
// Destination.String.
func (c *config) setTransportURL(u *URL) {
	if h, p, err := net.SplitHostPort(c.proxy); err == nil {
		u.ProxyHost = h
		if strings.Contains(h, ":") {
			u.ProxyHost = "[" + h + "]"
		}
		u.ProxyPort, _ = strconv.Atoi(p)
	}
	u.MaxConnsPerServer = c.maxConnsPerHost
	u.ConnectTimeout = c.connectTimeout
}
