package s3dest

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
	s3s                     bool     // the scheme was s3s:// (use-ssl=true)
	ext                     extState // what s3-ext-* options override (urlext.go)
}

// urlOptions are Duplicati's own options, and those s3dest adds; the
// s3-ext-* ones are in urlext.go.
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
		set: func(s *parseState, v string) error {
			if strings.Contains(v, "@") {
				return fmt.Errorf("holds user info before '@': give the keys as aws-access-key-id and aws-secret-access-key")
			}
			s.u.ServerName = v
			return nil
		},
		get: func(u *URL) (string, bool) { return u.ServerName, u.ServerName != "" }},
	{name: "s3-location-constraint",
		set: func(s *parseState, v string) error { s.region = &v; return nil },
		get: func(u *URL) (string, bool) { return u.Region, u.Region != "" }},
	{name: "s3-european-buckets",
		set: func(s *parseState, v string) error { return parseBool(v, &s.europeanBuckets) }},
	{name: "s3-authentication-region",
		set: func(s *parseState, v string) error { s.u.AuthRegion = v; return nil },
		get: func(u *URL) (string, bool) { return u.AuthRegion, u.AuthRegion != "" }},
	{name: "use-ssl",
		set: func(s *parseState, v string) error {
			if err := parseBoolPtr(v, &s.u.UseSSL); err != nil {
				return err
			}
			if s.s3s && !*s.u.UseSSL {
				return fmt.Errorf("contradicts s3s://, which means use-ssl=true: give one of them")
			}
			return nil
		},
		get: func(u *URL) (string, bool) { return fmtBoolPtr(u.UseSSL) }},
	{name: "s3-storage-class",
		set: func(s *parseState, v string) error { s.storageClass = &v; return nil },
		get: func(u *URL) (string, bool) { return u.StorageClass, u.StorageClass != "" }},
	{name: "s3-use-rrs",
		set: func(s *parseState, v string) error { return parseBool(v, &s.useRRS) }},
	{name: "s3-archive-classes",
		set: func(s *parseState, v string) error {
			// Empty: no class is archived (servers that keep archive
			// classes but serve their objects as they are).
			s.u.ArchiveClasses = append([]string{}, splitList(v)...)
			return nil
		},
		get: func(u *URL) (string, bool) { return strings.Join(u.ArchiveClasses, ","), u.ArchiveClasses != nil }},
	{name: "s3-client",
		set: func(s *parseState, v string) error {
			switch strings.ToLower(v) {
			case "", "aws", "minio":
				return nil
			}
			return fmt.Errorf("must be aws or minio (s3dest has one client and accepts both names)")
		}},
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
	{name: "s3-server-side-encryption",
		set: func(s *parseState, v string) error {
			switch v {
			case "AES256", "aws:kms", "aws:kms:dsse":
				s.u.ServerSideEncryption = v
				return nil
			}
			return fmt.Errorf("must be AES256, aws:kms or aws:kms:dsse")
		},
		get: func(u *URL) (string, bool) { return u.ServerSideEncryption, u.ServerSideEncryption != "" }},
	{name: "s3-sse-kms-key-id",
		set: func(s *parseState, v string) error { s.u.SSEKMSKeyID = v; return nil },
		get: func(u *URL) (string, bool) { return u.SSEKMSKeyID, u.SSEKMSKeyID != "" }},
	{name: "s3-sse-customer-key", secret: true,
		set: func(s *parseState, v string) error {
			key, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return fmt.Errorf("must be the base64 of a 32-byte key (percent-encode '+' as %%2B and '/' as %%2F)")
			}
			if len(key) != 32 {
				return fmt.Errorf("must be the base64 of a 32-byte key, not of %d bytes", len(key))
			}
			s.u.customerKey = &key
			return nil
		}},
	{name: "s3-version-at",
		set: func(s *parseState, v string) error { return parseVersionAt(v, &s.u.VersionAt) },
		get: func(u *URL) (string, bool) { return fmtVersionAt(u.VersionAt) }},
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
	for i := range knownOptions {
		o := &knownOptions[i]
		if o.name == name || slices.Contains(o.alias, name) {
			return o, true
		}
	}
	return nil, false
}

// sameEffect reports whether two values of o set the same ("true" and "1",
// "v1" and "1"): an option given twice that way contradicts nothing. valid
// is false when either value is refused; set then says why.
func sameEffect(o *urlOption, s3s bool, a, b string) (same, valid bool) {
	sa, sb := &parseState{u: &URL{}, s3s: s3s}, &parseState{u: &URL{}, s3s: s3s}
	if o.set(sa, a) != nil || o.set(sb, b) != nil {
		return false, false
	}
	return reflect.DeepEqual(sa, sb), true
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

// parseTimeout reads Duplicati's time spans (see parseSpan); "0" means no
// limit, stored as -1. An empty value, as for any option, is not given: the
// default limit, never none.
func parseTimeout(v string, dst *time.Duration) error {
	if v == "" {
		*dst = 0
		return nil
	}
	d, err := parseSpan(v, maxTimeout)
	if err != nil {
		return err
	}
	*dst = d
	if d == 0 {
		*dst = NoTimeout // Duplicati's 0
	}
	return nil
}

// parseSpan reads a time span as Duplicati writes them: a number of
// seconds, a Go duration ("1h30m", "1500ms"), or numbers with units s, m, h,
// D (day), W (week), M (30 days) and Y (365 days), as in "30D" or "1Y6M". It
// refuses spans over max, so that no spelling overflows.
func parseSpan(v string, max time.Duration) (time.Duration, error) {
	bad := fmt.Errorf("not a duration: use a number of seconds or a form like 30s, 10m, 1h, 30D")
	tooLong := fmt.Errorf("longer than %d days: give a shorter duration", max/(24*time.Hour))
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		switch {
		case n < 0:
			return 0, bad
		case n > int64(max/time.Second):
			return 0, tooLong
		}
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		switch {
		case d < 0:
			return 0, bad
		case d > max:
			return 0, tooLong
		}
		return d, nil
	}
	const day = 24 * time.Hour
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour,
		'D': day, 'd': day, 'W': 7 * day, 'w': 7 * day, 'M': 30 * day, 'Y': 365 * day, 'y': 365 * day}
	var total time.Duration
	for v != "" {
		i := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return 0, bad
		}
		n, err := strconv.ParseInt(v[:i], 10, 64)
		if err != nil {
			return 0, tooLong
		}
		unit, ok := units[v[i]]
		if !ok {
			return 0, bad
		}
		if n > int64(max/unit) || total+time.Duration(n)*unit > max {
			return 0, tooLong
		}
		total += time.Duration(n) * unit
		v = v[i+1:]
	}
	return total, nil
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
	for _, o := range knownOptions {
		for _, n := range append([]string{o.name}, o.alias...) {
			if d := editDistance(name, n); d < bestDist {
				best, bestDist = o.name, d
			}
		}
	}
	if best == "" {
		return noSuggestion
	}
	return fmt.Sprintf(": did you mean %s?", best)
}

const noSuggestion = ": see the option table in the package documentation"

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
