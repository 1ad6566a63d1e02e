package s3dest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// defaultRegion signs requests while the bucket's region is unknown: the
// region AWS's global endpoint answers for, and the one most S3-compatible
// servers expect.
const defaultRegion = "us-east-1"

// endpointPlan is where requests go, decided once by New from the options.
type endpointPlan struct {
	aws       bool   // an AWS endpoint: the host follows the region
	tls       bool   // https
	host      string // host[:port] of a custom server; "" on AWS
	region    string // the bucket's region when known; "" means discover it
	auth      string // signing region override, "" to sign for the region
	pathStyle bool
	lc        string // LocationConstraint for CreateBucket: the region, lower case ("EU" stays)
}

// planEndpoint applies the region rules: the bucket's region (which picks
// the AWS host) is the location constraint, else the one a known provider's
// host name encodes, else the auth region, else unknown (us-east-1 until
// discovered). Requests are signed for the auth region when given, else for
// the bucket's region.
func planEndpoint(bucket string, c *config) (endpointPlan, error) {
	var p endpointPlan
	p.tls = true
	region, err := normalizeRegion(c.region, "s3-location-constraint")
	if err != nil {
		return p, err
	}
	auth, err := normalizeRegion(c.authRegion, "s3-authentication-region")
	if err != nil {
		return p, err
	}
	// The location constraint as S3 takes it: the region read in any
	// case, lower case, but for the old "EU".
	p.lc = region
	if strings.EqualFold(strings.TrimSpace(c.region), "eu") {
		p.lc = "EU"
	}
	hostRegion := ""
	if c.serverName == "" {
		p.aws = true
	} else {
		scheme, host, err := parseServerName(c.serverName)
		if err != nil {
			return p, err
		}
		if scheme != "" {
			p.tls = scheme == "https"
		}
		var ok bool
		hostRegion, ok = awsHostRegion(host)
		if ok {
			p.aws = true // the plain S3 endpoint: let the SDK pick the host for the region
		} else {
			p.host = host
			hostRegion = providerRegion(host)
		}
	}
	if c.useSSL != nil {
		if scheme := serverScheme(c.serverName); scheme != "" && (scheme == "https") != *c.useSSL {
			return p, fmt.Errorf("s3-server-name %s://... and use-ssl=%v contradict each other: give one of them", scheme, *c.useSSL)
		}
		p.tls = *c.useSSL
	}
	p.region = firstNonEmpty(region, hostRegion, auth)
	p.auth = auth
	if p.lc == "" && region == "" && hostRegion != "" && p.aws {
		p.lc = hostRegion
	}
	switch {
	case c.pathStyle != nil:
		p.pathStyle = *c.pathStyle
	case !p.aws && !strings.HasSuffix(hostOnly(p.host), ".amazonaws.com"):
		p.pathStyle = true // Duplicati's rule: S3-compatible servers get path-style
	default:
		p.pathStyle = !dnsCompatible(bucket, p.tls)
	}
	return p, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

var regionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// normalizeRegion lower-cases a region id, maps the old "EU" to eu-west-1 and
// rejects what cannot be a region.
func normalizeRegion(r, option string) (string, error) {
	r = strings.ToLower(strings.TrimSpace(r))
	switch {
	case r == "":
		return "", nil
	case r == "eu":
		return "eu-west-1", nil
	case len(r) > 64 || !regionRE.MatchString(r):
		return "", fmt.Errorf("%s %q is not a region id: use a form like eu-west-1", option, truncate(r, 70))
	}
	return r, nil
}

// parseServerName reads "host", "host:port" or "http(s)://host[:port]".
func parseServerName(s string) (scheme, host string, err error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("s3-server-name %q %s: give host, host:port or https://host:port", truncate(s, 70), why)
	}
	if strings.Contains(s, "@") {
		// user:password@host: credentials, so the value is not shown.
		return "", "", fmt.Errorf("s3-server-name holds user info before '@' (not shown): give the keys as " +
			"aws-access-key-id and aws-secret-access-key, and the server as host, host:port or https://host:port")
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return bad("is not a valid URL")
		}
		scheme = strings.ToLower(u.Scheme)
		if scheme != "http" && scheme != "https" {
			return bad("has a scheme other than http or https")
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return bad("has user info, a query or a fragment")
		}
		if u.Path != "" && u.Path != "/" {
			return bad("has a path")
		}
		s = u.Host
	} else if strings.ContainsAny(s, "/?#@") {
		return bad("has a path")
	}
	if len(s) > 300 {
		return bad("is too long")
	}
	h, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.HasSuffix(s, ":") {
			return bad("has an empty port")
		}
		h, port = s, ""
	} else if port == "" {
		return bad("has an empty port")
	} else if strings.Contains(h, ":") {
		h = "[" + h + "]" // SplitHostPort took the brackets off
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("has an invalid port")
		}
	}
	if !validHost(h) {
		return bad("is not a host name or IP address")
	}
	return scheme, strings.ToLower(s), nil
}

// validHost accepts a DNS name (labels of letters, digits, '-' and, for
// container names such as minio_1, '_'; at most 253 bytes), an IPv4
// address, or an IPv6 address in brackets.
func validHost(h string) bool {
	if strings.HasPrefix(h, "[") || strings.HasSuffix(h, "]") {
		ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
		return err == nil && ip.Is6() && strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]")
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return !strings.Contains(h, ":") // an IPv6 address needs its brackets
	}
	h = strings.TrimSuffix(h, ".") // a fully qualified name
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// serverScheme is the scheme a server name starts with, lower case, or "".
func serverScheme(s string) string {
	scheme, _, ok := strings.Cut(strings.TrimSpace(s), "://")
	if !ok {
		return ""
	}
	return strings.ToLower(scheme)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// awsHost matches the plain S3 endpoints (global, regional, legacy dash form,
// dual-stack, China) but not VPC or access point hosts, which stay custom.
var awsHost = regexp.MustCompile(`^s3(?:[.-](?:dualstack\.)?([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$`)

// awsHostRegion reports whether host is a plain S3 endpoint and the region it
// names ("" for the global s3.amazonaws.com).
func awsHostRegion(host string) (string, bool) {
	m := awsHost.FindStringSubmatch(hostOnly(host))
	if m == nil {
		return "", false
	}
	if m[1] == "external-1" {
		return defaultRegion, true
	}
	return m[1], true
}

// providerHosts are S3-compatible providers that put the region in the host
// name; the first group is the region.
var providerHosts = []struct {
	re     *regexp.Regexp
	region string // fixed region when the pattern has no group
}{
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.wasabisys\.com$`)},
	{re: regexp.MustCompile(`^s3\.wasabisys\.com$`), region: "us-east-1"},
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.scw\.cloud$`)},
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.backblazeb2\.com$`)},
	{re: regexp.MustCompile(`^([a-z0-9-]+)\.digitaloceanspaces\.com$`)},
	{re: regexp.MustCompile(`\.r2\.cloudflarestorage\.com$`), region: "auto"},
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.lyvecloud\.seagate\.com$`)},
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.rabata\.io$`)},
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.internxt\.com$`)},
	{re: regexp.MustCompile(`^([a-z0-9-]+)\.linodeobjects\.com$`)},
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.(?:io\.|perf\.)?cloud\.ovh\.net$`)},
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.ionoscloud\.com$`)},
	{re: regexp.MustCompile(`^s3\.([a-z0-9-]+)\.idrivee2(?:-[0-9]+)?\.com$`)},
	{re: regexp.MustCompile(`\.compat\.objectstorage\.([a-z0-9-]+)\.oraclecloud\.com$`)},
	{re: regexp.MustCompile(`^oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$`)},
	{re: regexp.MustCompile(`^cos\.([a-z0-9-]+)\.myqcloud\.com$`)},
	{re: regexp.MustCompile(`^storage\.googleapis\.com$`), region: "auto"},
	{re: regexp.MustCompile(`\.amazonaws\.com(?:\.cn)?$`)}, // VPC and access point hosts: region below
}

var awsAnyHostRegion = regexp.MustCompile(`\.s3[.-](?:[a-z0-9-]+\.)*?([a-z]{2}(?:-gov)?-[a-z]+-[0-9])\.`)

// providerRegion returns the region a known provider's host name encodes, or "".
func providerRegion(hostport string) string {
	h := hostOnly(hostport)
	for _, p := range providerHosts {
		m := p.re.FindStringSubmatch(h)
		switch {
		case m == nil:
			continue
		case p.region != "":
			return p.region
		case len(m) > 1 && m[1] != "":
			return m[1]
		}
		if m := awsAnyHostRegion.FindStringSubmatch("." + h); m != nil {
			return m[1]
		}
		return ""
	}
	return ""
}

// awsEndpoint asks the SDK's own resolver for the S3 endpoint of a region, so
// every partition (China, GovCloud, ...) gets its right host.
func awsEndpoint(ctx context.Context, region string, c *config) (string, error) {
	ep, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, s3.EndpointParameters{
		Region:       aws.String(region),
		UseFIPS:      aws.Bool(c.fips),
		UseDualStack: aws.Bool(c.dualStack),
		Accelerate:   aws.Bool(false),
	})
	if err != nil {
		return "", fmt.Errorf("no S3 endpoint for region %q: %w", region, err)
	}
	return ep.URI.Scheme + "://" + ep.URI.Host, nil
}

// discover settles the region on first use when no option fixed it: one
// HeadBucket, whose x-amz-bucket-region header AWS sends on 200, 301, 400 and
// 403 alike. Concurrent callers wait for the one probe.
func (d *Destination) discover(ctx context.Context) (*clientState, error) {
	st := d.state.Load()
	if st.settled {
		return st, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if st = d.state.Load(); st.settled {
		return st, nil
	}
	region, answered := d.probeRegion(ctx, st)
	if !answered {
		return st, nil // no answer (network, ctx): the operation itself will report it
	}
	if region == "" || region == st.home {
		next := *st
		next.settled = true
		d.state.Store(&next)
		return &next, nil
	}
	next, err := d.newClientState(ctx, region, true)
	if err != nil {
		return nil, err
	}
	d.log.Info("s3dest: discovered the bucket's region", "bucket", d.bucket, "region", region, "endpoint", next.endpoint)
	d.state.Store(next)
	return next, nil
}

// probeRegion asks the server for the bucket's region. answered is false when
// no HTTP response came back.
func (d *Destination) probeRegion(ctx context.Context, st *clientState) (region string, answered bool) {
	ctx, cancel := d.withTimeout(ctx, d.cfg.timeouts.Short)
	defer cancel()
	out, err := st.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &d.bucket})
	if err == nil {
		return aws.ToString(out.BucketRegion), true
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		return "", false
	}
	return responseHeader(err, "x-amz-bucket-region"), true
}

// isWrongRegion reports whether err says the request went to, or was signed
// for, another region than the bucket's.
func isWrongRegion(err error, kind error, st *clientState) bool {
	if kind == ErrWrongRegion {
		return true
	}
	_, status := errorCode(err)
	r := responseHeader(err, "x-amz-bucket-region")
	return status == 400 && r != "" && r != st.home
}

// expectingRegion finds the region an AuthorizationHeaderMalformed answer
// expects ("the region 'us-east-1' is wrong; expecting 'eu-west-1'"). S3
// puts it in a <Region> element the SDK does not expose, and S3-compatible
// servers send no x-amz-bucket-region header: the message is all there is.
var expectingRegion = regexp.MustCompile(`expecting ['"]([a-z0-9-]+)['"]`)

// heal switches to the bucket's real region after a wrong-region answer, once
// per answer: it reads the region from the response header, else from the
// error message, else asks HeadBucket.
func (d *Destination) heal(ctx context.Context, st *clientState, cause error) (*clientState, bool) {
	// Where the region comes from decides what the log may say of it: a
	// x-amz-bucket-region header names the bucket's region, where a server
	// that expects another signing region says nothing of the bucket,
	// which may not exist.
	region, bucketRegion := responseHeader(cause, "x-amz-bucket-region"), true
	if region == "" {
		region, bucketRegion = messageRegion(cause), false
	}
	if region == "" {
		region, _ = d.probeRegion(ctx, st)
		bucketRegion = true
	}
	if region == "" || region == st.home {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur := d.state.Load(); cur != st {
		return cur, cur.home == region // another caller healed meanwhile
	}
	next, err := d.newClientState(ctx, region, true)
	if err != nil {
		return nil, false
	}
	next.serverRegion = region
	msg := "s3dest: the bucket is in another region; using it"
	if !bucketRegion {
		msg = "s3dest: the server expects requests signed for another region; using it"
	}
	d.log.Warn(msg, "bucket", d.bucket, "configured", st.home, "region", region, "endpoint", next.endpoint)
	d.state.Store(next)
	return next, true
}

// messageRegion is the region an error's message says the server expects
// ("the region 'us-east-1' is wrong; expecting 'eu-west-1'"), or "".
func messageRegion(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := expectingRegion.FindStringSubmatch(ae.ErrorMessage()); m != nil {
			return m[1]
		}
	}
	return ""
}

// locationHint says which location constraint the server takes when it
// refused the one CreateBucket sent: the region its answer names, else
// the one it asked requests to be signed for, earlier (heal). Servers such
// as versitygw name no region in InvalidLocationConstraint, and AWS's
// IllegalLocationConstraintException names only the one refused.
func (d *Destination) locationHint(err error) string {
	sent, _ := normalizeRegion(firstNonEmpty(d.plan.lc, d.plan.region), "")
	r := firstNonEmpty(responseHeader(err, "x-amz-bucket-region"), messageRegion(err), d.state.Load().serverRegion)
	if r == "" || r == sent {
		return "the server cannot create the bucket in that region: set s3-location-constraint to the server's region"
	}
	return fmt.Sprintf("the server takes requests for region %s, not %s: set s3-location-constraint=%s "+
		"(or leave it empty) to create the bucket there", r, firstNonEmpty(sent, defaultRegion), r)
}
