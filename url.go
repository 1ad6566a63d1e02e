package s3dest

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
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
	ServerName     string   // s3-server-name (or server-name; s3-ext-serviceurl overrides it)
	AuthRegion     string   // s3-authentication-region (s3-ext-authenticationregion overrides it)
	UseSSL         *bool    // use-ssl (or s3-ext-usehttp, negated); nil: on, unless the server name says http://
	StorageClass   string   // s3-storage-class
	ArchiveClasses []string // s3-archive-classes; nil: defaultArchiveClasses
	PathStyle      *bool    // s3-ext-forcepathstyle; nil: chosen by host
	ListV1         bool     // s3-list-api-version=v1
	RecursiveList  bool     // s3-recursive-list
	LockMode       string   // s3-lock-mode, upper case: GOVERNANCE or COMPLIANCE
	Timeouts       Timeouts // short-timeout, list-timeout, read-write-timeout (and s3-ext-timeout, s3-ext-readwritetimeout)

	Profile      string        // profile: a profile of the AWS config files, for the default chain
	Anonymous    bool          // anonymous: unsigned requests, for public buckets
	LockDuration time.Duration // remote-file-lock-duration: lock each upload this long; 0: no lock
	VersionAt    time.Time     // s3-version-at: a read-only view of the bucket as it stood then (WithVersionAt)

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

	// The HTTP transport (s3-ext-* names): an HTTP proxy for every
	// request, a cap on connections to the server and on connecting.
	ProxyHost         string        // s3-ext-proxyhost, with ProxyPort
	ProxyPort         int           // s3-ext-proxyport
	MaxConnsPerServer int           // s3-ext-maxconnectionsperserver (or s3-ext-connectionlimit); 0: the default (2048)
	ConnectTimeout    time.Duration // s3-ext-connecttimeout; 0: the default (30s)

	ServerSideEncryption string // s3-server-side-encryption: AES256, aws:kms or aws:kms:dsse
	SSEKMSKeyID          string // s3-sse-kms-key-id

	ignored      []string // s3-ext-* options accepted with no effect here, for New's log
	secretKey    *string  // behind a pointer so that %v never prints it
	sessionToken *string  // session-token, likewise
	customerKey  *[]byte  // s3-sse-customer-key, decoded: a secret, likewise
}

// HasCustomerKey reports whether the URL carried an SSE-C key
// (s3-sse-customer-key), which String leaves out like the secret key.
func (u *URL) HasCustomerKey() bool { return u.customerKey != nil }

// HasSecret reports whether the URL carried a secret access key.
func (u *URL) HasSecret() bool { return u.secretKey != nil && *u.secretKey != "" }

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
	s3s := false
	switch strings.ToLower(scheme) {
	case "s3":
	case "s3s":
		on := true
		u.UseSSL, s3s = &on, true
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
	userinfo, authority, path, hasUser, ok := splitUserinfo(rest)
	if !ok {
		return fail("%s", ambiguousUserinfo)
	}

	st := &parseState{u: u, s3s: s3s}
	var userID, userSecret *string
	if hasUser {
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
			return fail("the host part has a ':' not followed by a port: %s", ambiguousUserinfo)
		}
		authority = authority[:i]
	}
	u.Bucket = authority
	if err := validateBucket(u.Bucket); err != nil {
		if hasUser {
			// The user part may have been cut where the secret was not
			// meant to end: show none of it.
			return fail("the bucket after '@' is not a valid bucket name; %s", ambiguousUserinfo)
		}
		return fail("%v", err)
	}
	prefix, err := url.QueryUnescape(path) // Duplicati decodes "+" as a space
	if err != nil {
		return fail("the prefix has an invalid %%-escape")
	}
	if u.Prefix, err = normalizePrefix(prefix); err != nil {
		return fail("%v", err)
	}

	// After a secret, an unknown key may be the rest of it, cut off by an
	// unescaped '&': never shown.
	afterSecret := userSecret != nil
	// An option given twice must say the same both times: the values of
	// each option met so far, with the spelling used.
	type given struct{ key, val string }
	seen := map[*urlOption]given{}
	if rawQuery != "" {
		for pair := range strings.SplitSeq(rawQuery, "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			key, err := url.QueryUnescape(k)
			if err != nil {
				return fail("an option name has an invalid %%-escape")
			}
			key = strings.ToLower(strings.TrimSpace(key))
			o, ok := lookupOption(key)
			if !ok {
				// A key close to no known name, and either not shaped like
				// one or after a secret, may be a piece of a secret: never
				// show it. One close to a known name is a typo.
				if (afterSecret || !optionNameRE.MatchString(key)) && suggest(key) == noSuggestion {
					return fail("an unknown option, close to no known name (not shown: it may be part of a secret cut off "+
						"by an unescaped '&'; percent-encode '&' as %%26, '=' as %%3D, '+' as %%2B)%s", noSuggestion)
				}
				return fail("unknown option %q%s", key, suggest(key))
			}
			val, err := optionValue(v, o.secret)
			if err != nil {
				return fail("option %s has an invalid %%-escape in its value", key)
			}
			afterSecret = afterSecret || o.secret
			if prev, ok := seen[o]; ok {
				// Never silently one of two values: the one dropped may be
				// the one meant. Neither is shown: either may be a secret.
				same, valid := sameEffect(o, s3s, prev.val, val)
				switch {
				case valid && same:
					continue
				case valid && prev.key != key:
					return fail("option %s is given twice (as %s and %s) with different values: give it once", o.name, prev.key, key)
				case valid:
					return fail("option %s is given twice with different values: give it once", o.name)
				}
				// An invalid value: set reports it.
			}
			seen[o] = given{key, val}
			if err := o.set(st, val); err != nil {
				if o.secret {
					return fail("option %s: %v", key, err)
				}
				if strings.Contains(val, "@") { // user:password@host: not shown
					return fail("option %s (value not shown: it holds user info before '@'): %v", key, err)
				}
				return fail("option %s=%q: %v", key, truncate(val, 40), err)
			}
		}
	}

	if err := st.applyExt(); err != nil {
		return fail("%v", err)
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

// optionValue decodes an option's value, '+' as a space, without the white
// space around it. A secret keeps a '+' at either end, as a space: a secret
// never holds one, so the server refuses it and the hint says to write '+'
// as %2B (secretHasSpace), where dropping it would leave a secret one
// character short and no clue why it is refused.
func optionValue(v string, secret bool) (string, error) {
	if !secret {
		val, err := url.QueryUnescape(v)
		return strings.TrimSpace(val), err
	}
	pieces := strings.Split(v, "+")
	for i, p := range pieces {
		dec, err := url.PathUnescape(p)
		if err != nil {
			return "", err
		}
		pieces[i] = dec
	}
	pieces[0] = strings.TrimLeftFunc(pieces[0], unicode.IsSpace)
	pieces[len(pieces)-1] = strings.TrimRightFunc(pieces[len(pieces)-1], unicode.IsSpace)
	return strings.Join(pieces, " "), nil
}

// ambiguousUserinfo explains how to write credentials in the user part so
// that they cannot be read as the bucket or the prefix.
const ambiguousUserinfo = "percent-encode '/' (%2F), '@' (%40), ':' (%3A) and '?' (%3F) in a key or secret given " +
	"before '@', and '@' in the folder (%40), or give the keys as aws-access-key-id= and aws-secret-access-key="

// splitUserinfo splits "[userinfo@]authority[/path]" (the URL after "://",
// without its query). AWS secrets often hold '/', which a URL parser takes
// for the end of the authority: "AKID:wJal/rXU@bucket/p" would be bucket
// AKID with the secret in the prefix. So when the part before the first '/'
// holds a ':' but no '@', and one '@' follows, the user part runs to that
// '@'. What cannot be told apart is refused (ok false), never guessed: a ':'
// before the first '/' and an '@' after it, in any other arrangement (a
// port, or a secret of digits? a folder with '@', or a secret with '/'?).
func splitUserinfo(rest string) (userinfo, authority, path string, hasUser, ok bool) {
	authority, path, _ = strings.Cut(rest, "/")
	colon := strings.Index(authority, ":")
	if colon >= 0 && strings.Contains(path, "@") {
		port := authority[colon+1:]
		if strings.Contains(authority, "@") || port != "" && strings.Trim(port, "0123456789") == "" ||
			strings.Count(path, "@") > 1 {
			return "", "", "", false, false
		}
		at := strings.Index(path, "@")
		userinfo = authority + "/" + path[:at]
		authority, path, _ = strings.Cut(path[at+1:], "/")
		return userinfo, authority, path, true, true
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		return authority[:at], authority[at+1:], path, true, true
	}
	return "", authority, path, false, true
}

// String returns the canonical form of the URL: s3://bucket/prefix with the
// options in a fixed order under their current names. The secret access key
// and the SSE-C key are left out, so the result is safe to log and show;
// ParseURL of it gives the same settings, less the secrets.
func (u *URL) String() string {
	var b strings.Builder
	b.WriteString("s3://")
	b.WriteString(u.Bucket)
	b.WriteString("/")
	b.WriteString(escapePrefix(u.Prefix))
	sep := "?"
	for _, o := range knownOptions {
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
		c.versionAt = u.VersionAt
		c.proxy = ""
		if u.ProxyHost != "" {
			c.proxy = net.JoinHostPort(strings.Trim(u.ProxyHost, "[]"), strconv.Itoa(u.ProxyPort))
		}
		c.maxConnsPerHost = u.MaxConnsPerServer
		c.connectTimeout = u.ConnectTimeout
		c.ignoredOptions = u.ignored
	}}
	if u.ServerSideEncryption != "" || u.SSEKMSKeyID != "" {
		opts = append(opts, WithServerSideEncryption(SSE{Type: u.ServerSideEncryption, KMSKeyID: u.SSEKMSKeyID}))
	}
	if u.customerKey != nil {
		opts = append(opts, WithCustomerKey(*u.customerKey))
	}
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
		segs[i] = queryEscape(s)
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

// maxTimeout bounds timeouts, far beyond any sensible one, so that no
// spelling can overflow.
const maxTimeout = 366 * 24 * time.Hour

var (
	schemeRE     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{0,15}$`)
	optionNameRE = regexp.MustCompile(`^[a-z0-9]+([-_][a-z0-9]+)+$`)
)

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
