package s3dest

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// SSE chooses server-side encryption with keys the server manages
// (WithServerSideEncryption). Reads need nothing: the server decrypts.
type SSE struct {
	Type     string // "AES256" (SSE-S3), "aws:kms" (SSE-KMS) or "aws:kms:dsse"
	KMSKeyID string // for aws:kms and aws:kms:dsse; "" for the account's default key
}

// customerKey is an SSE-C key as requests carry it: base64 of the 32 bytes
// and of their MD5. It is a secret: never printed, logged or in an error.
type customerKey struct {
	key, md5 string
}

func newCustomerKey(key []byte) *customerKey {
	sum := md5.Sum(key)
	return &customerKey{key: base64.StdEncoding.EncodeToString(key), md5: base64.StdEncoding.EncodeToString(sum[:])}
}

// validateEncryption checks WithServerSideEncryption and WithCustomerKey;
// validateConfig calls it.
func validateEncryption(c *config) error {
	switch c.sse.Type {
	case "", "AES256", "aws:kms", "aws:kms:dsse":
	default:
		return fmt.Errorf("server-side encryption %q: give AES256, aws:kms or aws:kms:dsse", truncate(c.sse.Type, 40))
	}
	if c.sse.KMSKeyID != "" && c.sse.Type != "aws:kms" && c.sse.Type != "aws:kms:dsse" {
		return fmt.Errorf("a KMS key id needs server-side encryption aws:kms or aws:kms:dsse (s3-server-side-encryption)")
	}
	if err := checkHeaderValue("KMS key id", c.sse.KMSKeyID); err != nil {
		return err
	}
	if c.customerKeyErr != "" {
		return fmt.Errorf("customer key (SSE-C): %s", c.customerKeyErr)
	}
	if c.customerKey != nil && c.sse.Type != "" {
		return fmt.Errorf("a customer key (SSE-C) and server-side encryption %s exclude each other: give one", c.sse.Type)
	}
	return nil
}

// customer returns the SSE-C key, nil when there is none.
func (d *Destination) customer() *customerKey { return d.cfg.customerKey }

// encrypted reports whether objects are written with SSE-KMS or SSE-C:
// their ETags are then no MD5 of the data, and no check may rely on them.
func (d *Destination) encrypted() bool {
	return d.customer() != nil || d.cfg.sse.Type == "aws:kms" || d.cfg.sse.Type == "aws:kms:dsse"
}

// encryptNew sets the encryption of a new object: what the headers of a
// PutObject, a CreateMultipartUpload or a copy's destination carry.
func (d *Destination) encryptNew(sse *types.ServerSideEncryption, kmsKey, alg, key, keyMD5 **string) {
	if d.cfg.sse.Type != "" {
		*sse = types.ServerSideEncryption(d.cfg.sse.Type)
		if d.cfg.sse.KMSKeyID != "" {
			*kmsKey = aws.String(d.cfg.sse.KMSKeyID)
		}
	}
	d.withCustomerKey(alg, key, keyMD5)
}

// withCustomerKey sets the SSE-C headers of a request that reads or
// writes an object's data (GET, HEAD, a part, Complete, a copy's source).
func (d *Destination) withCustomerKey(alg, key, keyMD5 **string) {
	if ck := d.customer(); ck != nil {
		*alg, *key, *keyMD5 = aws.String("AES256"), aws.String(ck.key), aws.String(ck.md5)
	}
}

// secretsOf gathers the config's secrets for Error to scrub: the
// credentials and the SSE-C key.
func secretsOf(c *config) *secret {
	var s secret
	if c.creds != nil {
		s = *c.creds
	}
	if c.customerKey != nil {
		s.customerKey = c.customerKey.key
	}
	return &s
}

// encryptedObject reports an object whose ETag is no MD5 of its data, by
// its own headers: SSE-KMS (the bucket's default encryption, say) or SSE-C.
func encryptedObject(head *s3.HeadObjectOutput) bool {
	return strings.HasPrefix(string(head.ServerSideEncryption), "aws:kms") || head.SSECustomerAlgorithm != nil
}
