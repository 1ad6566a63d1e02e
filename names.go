package s3dest

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validateBucket checks a bucket name before any request. It accepts the
// DNS-style names AWS requires today, plus the upper case and underscores of
// legacy us-east-1 buckets and some S3-compatible servers (those are then
// addressed path-style).
func validateBucket(b string) error {
	switch {
	case b == "":
		return fmt.Errorf("the bucket name is empty: a destination URL looks like s3://bucket/prefix")
	case len(b) < 3 || len(b) > 255:
		return fmt.Errorf("bucket name %q must be 3 to 63 characters long (255 for legacy buckets)", truncate(b, 70))
	}
	for i, r := range b {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'
		if !ok {
			return fmt.Errorf("bucket name %q has %q at position %d: use letters, digits, '.' and '-'",
				truncate(b, 70), r, i)
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return fmt.Errorf("bucket name %q must start and end with a letter or digit", truncate(b, 70))
	}
	if strings.Contains(b, "..") {
		return fmt.Errorf("bucket name %q must not contain \"..\"", truncate(b, 70))
	}
	if _, err := netip.ParseAddr(b); err == nil {
		return fmt.Errorf("bucket name %q looks like an IP address: give the server in s3-server-name", b)
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// dnsCompatible reports whether the bucket can be a host name label
// (virtual-hosted-style addressing); withTLS also excludes dots, which break
// the wildcard certificate.
func dnsCompatible(b string, withTLS bool) bool {
	if len(b) > 63 || withTLS && strings.Contains(b, ".") {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' || c == '_' {
			return false
		}
	}
	return true
}

// normalizePrefix trims the prefix, drops leading slashes and adds the
// trailing one; "" stays "".
func normalizePrefix(p string) (string, error) {
	p = strings.TrimLeftFunc(p, func(r rune) bool { return r == '/' || unicode.IsSpace(r) })
	p = strings.TrimRightFunc(p, unicode.IsSpace)
	if p == "" {
		return "", nil
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	if err := checkKeyText(p); err != nil {
		return "", fmt.Errorf("prefix %q %v", truncate(p, 70), err)
	}
	for seg := range strings.SplitSeq(strings.TrimSuffix(p, "/"), "/") {
		switch seg {
		case "..", ".":
			return "", fmt.Errorf("prefix %q has a %q segment: give the folder without it", truncate(p, 70), seg)
		case "":
			return "", fmt.Errorf("prefix %q has an empty segment (\"//\"): give the folder without it", truncate(p, 70))
		}
	}
	return p, nil
}

// validateName checks an object name (relative to the prefix) and the key it
// makes.
func validateName(op, bucket, prefix, name string) (key string, err error) {
	if name == "" {
		return "", invalid(op, bucket, "", "empty object name")
	}
	if err := checkKeyText(name); err != nil {
		return "", invalid(op, bucket, "", "object name %q %v", truncate(name, 70), err)
	}
	if strings.HasPrefix(name, "/") {
		return "", invalid(op, bucket, "", "object name %q starts with '/': names are relative to the prefix", truncate(name, 70))
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch seg {
		case "..", ".":
			return "", invalid(op, bucket, "", "object name %q has a %q segment", truncate(name, 70), seg)
		case "":
			// File-backed servers (versitygw, MinIO, SeaweedFS) store
			// "x//y" and "x/y", or "x/" and a folder, as one object.
			return "", invalid(op, bucket, "", "object name %q has an empty segment (\"//\" or a trailing '/'): "+
				"many servers would store it as the name without it", truncate(name, 70))
		}
	}
	key = prefix + name
	if len(key) > 1024 {
		return "", invalid(op, bucket, "", "object key is %d bytes long: S3 allows at most 1024 (prefix included)", len(key))
	}
	return key, nil
}

// checkKeyText refuses what S3 keys cannot hold or servers mangle: invalid
// UTF-8, control characters, and U+FFFE and U+FFFF, which are no XML
// characters: the SDK writes them as U+FFFD in a DeleteObjects body (a
// delete of another name) and listings cannot carry them.
func checkKeyText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("contains the control character %U", r)
		}
		if r == 0xfffe || r == 0xffff {
			return fmt.Errorf("contains %U, which XML cannot carry", r)
		}
	}
	return nil
}
