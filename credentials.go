package s3dest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Credentials come from exactly one source, the last credential option
// given: static keys (the URL's, WithCredentials, WithSessionCredentials),
// the caller's provider (WithCredentialsProvider), none at all
// (WithAnonymous), or, when none of these is given, the AWS default chain
// (WithProfile picks its profile). See the package doc, "Credentials".

// clearCredentials forgets every credential source: the credential options
// replace each other, so the last one given wins and Open's caller overrides
// the URL's keys.
func clearCredentials(c *config) {
	c.creds, c.credsProvider, c.profile, c.anonymous = nil, nil, "", false
}

// validateCredentials checks static keys; the other sources have nothing to
// check before their first use.
func validateCredentials(c *config) error {
	k := c.creds
	if k == nil {
		return nil
	}
	switch {
	case k.accessKeyID == "" && k.secretAccessKey == "":
		return fmt.Errorf("a session token without keys: give aws-access-key-id and aws-secret-access-key with session-token")
	case k.accessKeyID == "":
		return fmt.Errorf("a secret access key without an access key id: give aws-access-key-id too")
	case k.secretAccessKey == "":
		return fmt.Errorf("access key id %q has no secret: give aws-secret-access-key too", truncate(k.accessKeyID, 40))
	}
	if err := checkHeaderValue("access key id", k.accessKeyID); err != nil {
		return err
	}
	for _, r := range k.sessionToken {
		if r < 0x21 || r > 0x7e { // never shown: it is a secret
			return fmt.Errorf("the session token may hold only printable ASCII without spaces " +
				"(a '+' written raw in a URL reads as a space: percent-encode it as %%2B)")
		}
	}
	return nil
}

// checkURLCredentials refuses a URL whose credential options contradict each
// other: in one URL no option comes "last".
func checkURLCredentials(u *URL) error {
	keys := u.AccessKeyID != "" || u.HasSecret()
	switch {
	case u.Anonymous && (keys || u.Profile != "" || u.sessionToken != nil):
		return fmt.Errorf("anonymous=true sends no credentials: drop the keys, session-token and profile, or anonymous")
	case u.Profile != "" && keys:
		return fmt.Errorf("profile=%s and access keys: give one or the other", truncate(u.Profile, 40))
	case u.sessionToken != nil && !keys:
		return fmt.Errorf("session-token without keys: give aws-access-key-id and aws-secret-access-key with it")
	}
	return nil
}

// credentialsProvider returns what requests are signed with. It does no
// network I/O: the default chain reads the environment and the shared files
// here, and asks its remote sources (SSO, STS, container or instance
// metadata) on the first request.
func (d *Destination) credentialsProvider(ctx context.Context) (aws.CredentialsProvider, error) {
	c := &d.cfg
	switch {
	case c.anonymous:
		return aws.AnonymousCredentials{}, nil
	case c.creds != nil:
		k := *c.creds
		return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: k.accessKeyID, SecretAccessKey: k.secretAccessKey,
				SessionToken: k.sessionToken, Source: "s3dest"}, nil
		}), nil
	case c.credsProvider != nil:
		if aws.IsCredentialsProvider(c.credsProvider, (*aws.CredentialsCache)(nil)) {
			return c.credsProvider, nil
		}
		return aws.NewCredentialsCache(c.credsProvider), nil
	}
	// Only the credentials are taken from the loaded config: s3dest's own
	// region, endpoint and checksum choices stand. The default region is
	// for the chain's STS and SSO clients, when the files name none.
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithDefaultRegion(firstNonEmpty(d.plan.region, defaultRegion))}
	if c.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.profile))
	}
	server := ""
	if !d.onAWS() {
		// An instance role is for AWS: asking the metadata service for a
		// server elsewhere only hangs where there is none (a reported
		// pain of the peers: minutes of retries before "no credentials").
		server = d.plan.host
		opts = append(opts, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading the AWS credential chain: %w (give aws-access-key-id and aws-secret-access-key, "+
			"a profile= that the AWS config files hold, or anonymous=true)", err)
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("the AWS credential chain has no provider: give aws-access-key-id and aws-secret-access-key")
	}
	return &chainCredentials{chain: cfg.Credentials, server: server, profile: c.profile, log: d.log}, nil
}

// onAWS reports whether the endpoint is AWS's: the plain S3 hosts, and the
// VPC endpoint and access point hosts (*.amazonaws.com) kept as custom ones.
func (d *Destination) onAWS() bool {
	h := hostOnly(d.plan.host)
	return d.plan.aws || strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn")
}

// chainCredentials is the AWS default chain, with its failure explained in
// s3dest's terms and its source logged once.
type chainCredentials struct {
	chain   aws.CredentialsProvider // an aws.CredentialsCache
	server  string                  // the custom server, "" on AWS
	profile string
	log     *slog.Logger
	logged  atomic.Bool
}

func (p *chainCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	cr, err := p.chain.Retrieve(ctx)
	if err != nil {
		return cr, &credentialsError{server: p.server, profile: p.profile, err: err}
	}
	if !p.logged.Swap(true) {
		p.log.Info("s3dest: no keys given; using credentials from the AWS default chain", "source", cr.Source)
	}
	return cr, nil
}

// credentialsError says the default chain found no credentials, and how to
// give some. classify makes it ErrAccessDenied.
type credentialsError struct {
	server, profile string
	err             error
}

func (e *credentialsError) Error() string {
	if errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
		return "retrieving credentials: " + e.err.Error()
	}
	var b strings.Builder
	b.WriteString("no credentials")
	if e.server != "" {
		fmt.Fprintf(&b, " for s3-server-name %s", e.server)
	}
	b.WriteString(": give aws-access-key-id and aws-secret-access-key (and session-token for temporary keys), ")
	b.WriteString("profile=NAME for a profile of the AWS config files, or anonymous=true for a public bucket; ")
	switch {
	case e.profile != "":
		fmt.Fprintf(&b, "profile %s gave none", e.profile)
	case e.server != "":
		b.WriteString("the AWS default chain found none (instance metadata is not asked for a server outside AWS)")
	default:
		b.WriteString("the AWS default chain (environment, config files, SSO, container and instance roles) found none")
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *credentialsError) Unwrap() error { return e.err }
