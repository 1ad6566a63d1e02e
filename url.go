package s3dest

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// URL is a parsed destination URL: Duplicati's S3 grammar,
//
//	s3://[key-id[:secret]@]bucket[/prefix][?option=value&...]
//
// (s3s:// is the same with use-ssl=true). Fields hold the settings as given;
// zero values mean "not given". The secret access key and the session token
// are kept unexported and are never printed: String leaves them out, and %v
// shows only an address.
type URL struct {
	Bucket         string   // as typed
	Prefix         string   // "" or ends with "/"
	AccessKeyID    string   // aws-access-key-id, else the URL's user, else auth-username
	Region         string   // s3-location-constraint, as typed ("EU" stays "EU")
	ServerName     string   // s3-server-name (or server-name)
	AuthRegion     string   // s3-authentication-region
	UseSSL         *bool    // use-ssl; nil: on, unless the server name says http://
	StorageClass   string   // s3-storage-class
	ArchiveClasses []string // s3-archive-classes; nil: defaultArchiveClasses
	PathStyle      *bool    // s3-ext-forcepathstyle; nil: chosen by host
	ListV1         bool     // s3-list-api-version=v1
	RecursiveList  bool     // s3-recursive-list
	LockMode       string   // s3-lock-mode, upper case: GOVERNANCE or COMPLIANCE
	Timeouts       Timeouts // short-timeout, list-timeout, read-write-timeout

	Profile      string        // profile: a profile of the AWS config files, for the default chain
	Anonymous    bool          // anonymous: unsigned requests, for public buckets
	LockDuration time.Duration // remote-file-lock-duration: lock each upload this long; 0: no lock

	// SDK settings (s3-disable-chunk-encoding, s3-disable-payload-signing and
	// the s3-ext-* names).
	DisableChunkEncoding  bool
	DisablePayloadSigning bool
	DualStack             bool   // s3-ext-usedualstackendpoint
	FIPS                  bool   // s3-ext-usefipsendpoint
	Accelerate            bool   // s3-ext-useaccelerateendpoint
	MaxErrorRetry         *int   // s3-ext-maxerrorretry: retries after the first try; nil: SDK default
	RequestChecksum       string // s3-ext-requestchecksumcalculation: when_supported or when_required
	ResponseChecksum      string // s3-ext-responsechecksumvalidation: when_supported or when_required

	secretKey    *string // behind a pointer so that %v never prints it
	sessionToken *string // session-token, likewise
}

// HasSecret reports whether the URL carried a secret access key.
func (u *URL) HasSecret() bool { return u.secretKey != nil && *u.secretKey != "" }

// urlOption is one known query option: how to read it into a URL and, for
// the canonical spelling, how to write it back.
type urlOption struct {
	name   string   // canonical spelling (lower case)
	alias  []string // other accepted spellings, Duplicati's old ones included
	secret bool     // its value is a credential: never echoed in an error
	set    func(*parseState, string) error
	get    func(*URL) (string, bool) // nil when another field carries it; ok=false: not set
}

// parseState collects values whose precedence depends on other options.
type parseState struct {
	u                       *URL
	keyID, secretKey        *string // aws-access-key-id / aws-secret-access-key
	authUser, authPass      *string // auth-username / auth-password
	europeanBuckets, useRRS bool
	region, storageClass    *string
	sessionToken            *string
}

var urlOptions = []urlOption{
	{name: "aws-access-key-id", alias: []string{"aws_access_key_id"},
		set: func(s *parseState, v string) error { s.keyID = &v; return nil },
		get: func(u *URL) (string, bool) { return u.AccessKeyID, u.AccessKeyID != "" }},
	{name: "aws-secret-access-key", alias: []string{"aws_secret_access_key"}, secret: true,
		set: func(s *parseState, v string) error { s.secretKey = &v; return nil }},
	{name: "auth-username",
		set: func(s *parseState, v string) error { s.authUser = &v; return nil }},
	{name: "auth-password", secret: true,
		set: func(s *parseState, v string) error { s.authPass = &v; return nil }},
	{name: "session-token", alias: []string{"aws-session-token"}, secret: true,
		set: func(s *parseState, v string) error { s.sessionToken = &v; return nil }},
	{name: "profile", alias: []string{"aws-profile"},
		set: func(s *parseState, v string) error { s.u.Profile = v; return nil },
		get: func(u *URL) (string, bool) { return u.Profile, u.Profile != "" }},
	{name: "anonymous",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.Anonymous) },
		get: func(u *URL) (string, bool) { return "true", u.Anonymous }},
	{name: "s3-server-name", alias: []string{"server-name"},
		set: func(s *parseState, v string) error { s.u.ServerName = v; return nil },
		get: func(u *URL) (string, bool) { return u.ServerName, u.ServerName != "" }},
	{name: "s3-location-constraint",
		set: func(s *parseState, v string) error { s.region = &v; return nil },
		get: func(u *URL) (string, bool) { return u.Region, u.Region != "" }},
	{name: "s3-european-buckets",
		set: func(s *parseState, v string) error { return parseBool(v, &s.europeanBuckets) }},
	{name: "s3-authentication-region", alias: []string{"s3-ext-authenticationregion"},
		set: func(s *parseState, v string) error { s.u.AuthRegion = v; return nil },
		get: func(u *URL) (string, bool) { return u.AuthRegion, u.AuthRegion != "" }},
	{name: "use-ssl",
		set: func(s *parseState, v string) error { return parseBoolPtr(v, &s.u.UseSSL) },
		get: func(u *URL) (string, bool) { return fmtBoolPtr(u.UseSSL) }},
	{name: "s3-storage-class",
		set: func(s *parseState, v string) error { s.storageClass = &v; return nil },
		get: func(u *URL) (string, bool) { return u.StorageClass, u.StorageClass != "" }},
	{name: "s3-use-rrs",
		set: func(s *parseState, v string) error { return parseBool(v, &s.useRRS) }},
	{name: "s3-archive-classes",
		set: func(s *parseState, v string) error { s.u.ArchiveClasses = splitList(v); return nil },
		get: func(u *URL) (string, bool) { return strings.Join(u.ArchiveClasses, ","), u.ArchiveClasses != nil }},
	{name: "s3-client",
		set: func(s *parseState, v string) error {
			switch strings.ToLower(v) {
			case "", "aws", "minio":
				return nil
			}
			return fmt.Errorf("must be aws or minio (s3dest has one client and accepts both names)")
		}},
	{name: "s3-ext-forcepathstyle",
		set: func(s *parseState, v string) error { return parseBoolPtr(v, &s.u.PathStyle) },
		get: func(u *URL) (string, bool) { return fmtBoolPtr(u.PathStyle) }},
	{name: "s3-list-api-version", alias: []string{"list-api-version"},
		set: func(s *parseState, v string) error {
			switch strings.ToLower(v) {
			case "v1", "1":
				s.u.ListV1 = true
			case "v2", "2", "":
				s.u.ListV1 = false
			default:
				return fmt.Errorf("must be v1 or v2")
			}
			return nil
		},
		get: func(u *URL) (string, bool) { return "v1", u.ListV1 }},
	{name: "s3-recursive-list",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.RecursiveList) },
		get: func(u *URL) (string, bool) { return "true", u.RecursiveList }},
	{name: "s3-lock-mode",
		set: func(s *parseState, v string) error {
			m, err := parseLockMode(v)
			s.u.LockMode = m
			return err
		},
		get: func(u *URL) (string, bool) { return strings.ToLower(u.LockMode), u.LockMode != "" }},
	{name: "remote-file-lock-duration",
		set: func(s *parseState, v string) error { return parseLockDuration(v, &s.u.LockDuration) },
		get: func(u *URL) (string, bool) { return fmtLockDuration(u.LockDuration) }},
	{name: "s3-disable-chunk-encoding",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.DisableChunkEncoding) },
		get: func(u *URL) (string, bool) { return "true", u.DisableChunkEncoding }},
	{name: "s3-disable-payload-signing",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.DisablePayloadSigning) },
		get: func(u *URL) (string, bool) { return "true", u.DisablePayloadSigning }},
	{name: "s3-ext-usedualstackendpoint",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.DualStack) },
		get: func(u *URL) (string, bool) { return "true", u.DualStack }},
	{name: "s3-ext-usefipsendpoint",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.FIPS) },
		get: func(u *URL) (string, bool) { return "true", u.FIPS }},
	{name: "s3-ext-useaccelerateendpoint",
		set: func(s *parseState, v string) error { return parseBool(v, &s.u.Accelerate) },
		get: func(u *URL) (string, bool) { return "true", u.Accelerate }},
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
	{name: "short-timeout",
		set: func(s *parseState, v string) error { return parseTimeout(v, &s.u.Timeouts.Short) },
		get: func(u *URL) (string, bool) { return fmtTimeout(u.Timeouts.Short) }},
	{name: "list-timeout",
		set: func(s *parseState, v string) error { return parseTimeout(v, &s.u.Timeouts.List) },
		get: func(u *URL) (string, bool) { return fmtTimeout(u.Timeouts.List) }},
	{name: "read-write-timeout",
		set: func(s *parseState, v string) error { return parseTimeout(v, &s.u.Timeouts.ReadWrite) },
		get: func(u *URL) (string, bool) { return fmtTimeout(u.Timeouts.ReadWrite) }},
}

// lookupOption finds a known option by any of its spellings.
func lookupOption(name string) (*urlOption, bool) {
	for i := range urlOptions {
		o := &urlOptions[i]
		if o.name == name || slices.Contains(o.alias, name) {
			return o, true
		}
	}
	return nil, false
}

// ParseURL parses a destination URL without any I/O or environment lookup.
// Errors name the part that was wrong and never contain the secret.
func ParseURL(rawURL string) (*URL, error) {
	fail := func(format string, args ...any) (*URL, error) {
		return nil, &Error{Op: "parse-url", kind: ErrInvalid, Err: fmt.Errorf(format, args...)}
	}
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return fail("missing scheme: a destination URL looks like s3://bucket/prefix?options")
	}
	u := &URL{}
	switch strings.ToLower(scheme) {
	case "s3":
	case "s3s":
		on := true
		u.UseSSL = &on
	default:
		if !schemeRE.MatchString(scheme) { // not a scheme: may hold a secret, so not shown
			return fail("the URL does not start with s3:// (or s3s://)")
		}
		return fail("unsupported scheme %q: use s3:// (or s3s://)", scheme)
	}
	if strings.ContainsAny(rest, "#") {
		return fail("the URL contains '#': percent-encode it as %%23 (in a secret too)")
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")

	st := &parseState{u: u}
	var userID, userSecret *string
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo := authority[:at]
		authority = authority[at+1:]
		id, pass, hasPass := strings.Cut(userinfo, ":")
		idDec, err := url.PathUnescape(id)
		idDec = strings.TrimSpace(idDec)
		if err != nil {
			return fail("the access key id before '@' has an invalid %%-escape")
		}
		userID = &idDec
		if hasPass {
			passDec, err := url.PathUnescape(pass)
			if err != nil {
				return fail("the secret before '@' has an invalid %%-escape")
			}
			passDec = strings.TrimSpace(passDec)
			userSecret = &passDec
		}
	}
	// Duplicati ignores a port in the authority: the port belongs in s3-server-name.
	if i := strings.LastIndex(authority, ":"); i >= 0 {
		if port := authority[i+1:]; strings.Trim(port, "0123456789") != "" {
			// Most likely a secret with an unescaped '/' or '?' cut the
			// authority short: say so without showing any of it.
			return fail("the host part has a ':' not followed by a port: percent-encode '/' (%%2F), '?' (%%3F) " +
				"and '@' (%%40) in a key or secret given before '@'")
		}
		authority = authority[:i]
	}
	u.Bucket = authority
	if err := validateBucket(u.Bucket); err != nil {
		return fail("%v", err)
	}
	prefix, err := url.QueryUnescape(path) // Duplicati decodes "+" as a space
	if err != nil {
		return fail("the prefix has an invalid %%-escape")
	}
	if u.Prefix, err = normalizePrefix(prefix); err != nil {
		return fail("%v", err)
	}

	if rawQuery != "" {
		for pair := range strings.SplitSeq(rawQuery, "&") {
			if pair == "" {
				continue
			}
			k, v, hasValue := strings.Cut(pair, "=")
			key, err := url.QueryUnescape(k)
			if err != nil {
				return fail("an option name has an invalid %%-escape")
			}
			key = strings.ToLower(strings.TrimSpace(key))
			o, ok := lookupOption(key)
			if !ok {
				// A key not shaped like an option name may be a piece of a
				// secret cut off by an unescaped '&': never show it.
				if !optionNameRE.MatchString(key) && !(hasValue && simpleNameRE.MatchString(key)) {
					return fail("the query has a part that is not an option=value pair: " +
						"percent-encode '&' (%%26), '=' (%%3D) and '+' (%%2B) in values")
				}
				return fail("unknown option %q%s", key, suggest(key))
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				return fail("option %s has an invalid %%-escape in its value", key)
			}
			if err := o.set(st, strings.TrimSpace(val)); err != nil {
				if o.secret {
					return fail("option %s: %v", key, err)
				}
				return fail("option %s=%q: %v", key, truncate(val, 40), err)
			}
		}
	}

	// Precedence: aws-access-key-id > URL userinfo > auth-username, same for secrets.
	u.AccessKeyID = firstOf(st.keyID, userID, st.authUser)
	if s := firstOf(st.secretKey, userSecret, st.authPass); s != "" {
		u.secretKey = &s
	}
	if st.sessionToken != nil && *st.sessionToken != "" {
		u.sessionToken = st.sessionToken
	}
	if err := checkURLCredentials(u); err != nil {
		return fail("%v", err)
	}
	switch {
	case st.region != nil:
		u.Region = *st.region
	case st.europeanBuckets:
		u.Region = "eu-west-1"
	}
	switch {
	case st.storageClass != nil:
		u.StorageClass = *st.storageClass
	case st.useRRS:
		u.StorageClass = "REDUCED_REDUNDANCY"
	}
	return u, nil
}

// String returns the canonical form of the URL: s3://bucket/prefix with the
// options in a fixed order under their current names. The secret access key
// is left out, so the result is safe to log and show; ParseURL of it gives
// the same settings, less the secret.
func (u *URL) String() string {
	var b strings.Builder
	b.WriteString("s3://")
	b.WriteString(u.Bucket)
	b.WriteString("/")
	b.WriteString(escapePrefix(u.Prefix))
	sep := "?"
	for _, o := range urlOptions {
		if o.get == nil {
			continue
		}
		if v, ok := o.get(u); ok {
			b.WriteString(sep)
			b.WriteString(o.name)
			b.WriteString("=")
			b.WriteString(url.QueryEscape(v))
			sep = "&"
		}
	}
	return b.String()
}

// Options returns the options the URL sets, for New. Open(ctx, raw, opts...)
// is New(ctx, u.Bucket, append(u.Options(), opts...)...).
func (u *URL) Options() []Option {
	opts := []Option{WithPrefix(u.Prefix), func(c *config) {
		c.region = u.Region
		c.serverName = u.ServerName
		c.authRegion = u.AuthRegion
		c.useSSL = u.UseSSL
		c.storageClass = u.StorageClass
		c.archiveClasses = u.ArchiveClasses
		c.pathStyle = u.PathStyle
		c.listV1 = u.ListV1
		c.recursiveList = u.RecursiveList
		c.lockMode = u.LockMode
		c.timeouts = u.Timeouts
		c.disableChunkEncoding = u.DisableChunkEncoding
		c.disablePayloadSigning = u.DisablePayloadSigning
		c.dualStack, c.fips, c.accelerate = u.DualStack, u.FIPS, u.Accelerate
		if u.MaxErrorRetry != nil {
			c.retryAttempts = *u.MaxErrorRetry + 1
		}
		c.requestChecksum = u.RequestChecksum
		c.responseChecksum = u.ResponseChecksum
		c.lockFor = u.LockDuration
	}}
	if u.AccessKeyID != "" || u.HasSecret() {
		var sk, token string
		if u.secretKey != nil {
			sk = *u.secretKey
		}
		if u.sessionToken != nil {
			token = *u.sessionToken
		}
		opts = append(opts, WithSessionCredentials(u.AccessKeyID, sk, token))
	}
	switch {
	case u.Profile != "":
		opts = append(opts, WithProfile(u.Profile))
	case u.Anonymous:
		opts = append(opts, WithAnonymous(true))
	}
	return opts
}

// escapePrefix writes a prefix so that ParseURL reads it back: each segment
// query-escaped (Duplicati decodes "+" as a space), spaces as %20.
func escapePrefix(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	}
	return strings.Join(segs, "/")
}

func firstOf(ps ...*string) string {
	for _, p := range ps {
		if p != nil && *p != "" {
			return *p
		}
	}
	return ""
}

// parseBool reads Duplicati's booleans: empty means true (the option is
// present), 1/on/true/yes and 0/off/false/no.
func parseBool(v string, dst *bool) error {
	switch strings.ToLower(v) {
	case "", "1", "on", "true", "yes":
		*dst = true
	case "0", "off", "false", "no":
		*dst = false
	default:
		return fmt.Errorf("not a boolean: use true or false")
	}
	return nil
}

func parseBoolPtr(v string, dst **bool) error {
	var b bool
	if err := parseBool(v, &b); err != nil {
		return err
	}
	*dst = &b
	return nil
}

func fmtBoolPtr(p *bool) (string, bool) {
	if p == nil {
		return "", false
	}
	return strconv.FormatBool(*p), true
}

func parseChecksumMode(v string, dst *string) error {
	switch strings.ReplaceAll(strings.ToLower(v), "_", "") {
	case "whensupported":
		*dst = "when_supported"
	case "whenrequired":
		*dst = "when_required"
	default:
		return fmt.Errorf("must be when_supported or when_required")
	}
	return nil
}

func parseLockMode(v string) (string, error) {
	switch m := strings.ToUpper(v); m {
	case "GOVERNANCE", "COMPLIANCE":
		return m, nil
	}
	return "", fmt.Errorf("must be governance or compliance")
}

// maxTimeout bounds timeouts, far beyond any sensible one, so that no
// spelling can overflow.
const maxTimeout = 366 * 24 * time.Hour

var (
	schemeRE     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{0,15}$`)
	optionNameRE = regexp.MustCompile(`^[a-z0-9]+([-_][a-z0-9]+)+$`)
	simpleNameRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,39}$`)
)

// parseTimeout reads Duplicati's time spans: a number of seconds, or a Go
// duration, with D for days and W for weeks ("30s", "10m", "1h30m", "2D").
func parseTimeout(v string, dst *time.Duration) error {
	bad := fmt.Errorf("not a duration: use a number of seconds or a form like 30s, 10m, 1h")
	if n, err := strconv.ParseInt(v, 10, 32); err == nil {
		if n < 0 {
			return bad
		}
		if time.Duration(n)*time.Second > maxTimeout {
			return fmt.Errorf("longer than a year: give a shorter duration")
		}
		*dst = time.Duration(n) * time.Second
		if n == 0 {
			*dst = -1 // "0": no limit
		}
		return nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 && d <= maxTimeout {
		*dst = d
		if d == 0 {
			*dst = -1
		}
		return nil
	}
	var total time.Duration
	for v != "" {
		i := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return bad
		}
		n, err := strconv.ParseInt(v[:i], 10, 32)
		if err != nil {
			return bad
		}
		unit := v[i:]
		if j := strings.IndexFunc(unit, func(r rune) bool { return r >= '0' && r <= '9' }); j > 0 {
			unit = unit[:j]
		}
		var d time.Duration
		switch unit {
		case "ms":
			d = time.Millisecond
		case "s":
			d = time.Second
		case "m":
			d = time.Minute
		case "h":
			d = time.Hour
		case "D", "d":
			d = 24 * time.Hour
		case "W", "w":
			d = 7 * 24 * time.Hour
		default:
			return bad
		}
		if n > int64(maxTimeout/d) || total+time.Duration(n)*d > maxTimeout {
			return fmt.Errorf("longer than a year: give a shorter duration")
		}
		total += time.Duration(n) * d
		v = v[i+len(unit):]
	}
	*dst = total
	if total == 0 {
		*dst = -1 // "0D": no limit, like "0"
	}
	return nil
}

func fmtTimeout(d time.Duration) (string, bool) {
	switch {
	case d == 0:
		return "", false
	case d < 0:
		return "0", true
	}
	return d.String(), true
}

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// suggest names the known option closest to an unknown one, if any is close.
func suggest(name string) string {
	best, bestDist := "", 4
	for _, o := range urlOptions {
		for _, n := range append([]string{o.name}, o.alias...) {
			if d := editDistance(name, n); d < bestDist {
				best, bestDist = o.name, d
			}
		}
	}
	if best == "" {
		return ": see the option table in the package documentation"
	}
	return fmt.Sprintf(": did you mean %s?", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
