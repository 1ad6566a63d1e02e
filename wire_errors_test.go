package s3dest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
)

// The wire's errors are the SDK's: the same types, codes, texts, ids and
// attempts for every kind of answer (wire_internal_test.go has the
// recorder and the cases).

// describe is what callers and s3dest read of an error.
func describe(err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Error(): %v\n", err)
	var ae smithy.APIError
	if errors.As(err, &ae) {
		fmt.Fprintf(&b, "api error %T %q %q %v\n", ae, ae.ErrorCode(), ae.ErrorMessage(), ae.ErrorFault())
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		fmt.Fprintf(&b, "status %d request id %q\n", re.HTTPStatusCode(), re.ServiceRequestID())
	}
	var host interface{ ServiceHostID() string }
	if errors.As(err, &host) {
		fmt.Fprintf(&b, "host id %q\n", host.ServiceHostID())
	}
	var mae *retry.MaxAttemptsError
	if errors.As(err, &mae) {
		fmt.Fprintf(&b, "attempts %d\n", mae.Attempt)
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		b.WriteString("send error\n")
	}
	var ios *types.InvalidObjectState
	if errors.As(err, &ios) {
		fmt.Fprintf(&b, "archived %s %s\n", ios.StorageClass, ios.AccessTier)
	}
	kind, code := classify(err, false)
	text, id := shortCause(err)
	fmt.Fprintf(&b, "kind %v code %q\nshort %s [%s]\n", kind, code, text, id)
	// The SDK's x-id query parameter shows in the URL of a failed send.
	return regexp.MustCompile(`[?&]x-id=[A-Za-z]+`).ReplaceAllString(b.String(), "")
}

func TestWireErrorsAreTheSDKs(t *testing.T) {
	xmlError := func(code, msg, extra string) string {
		return "<Error><Code>" + code + "</Code><Message>" + msg + "</Message>" + extra +
			"<RequestId>BODYREQ</RequestId><HostId>BODYHOST</HostId></Error>"
	}
	answers := map[string]struct {
		status int
		body   string
		err    error // a transport failure instead of an answer
	}{
		"NoSuchKey":           {404, xmlError("NoSuchKey", "The specified key does not exist.", ""), nil},
		"lower-case code":     {404, xmlError("nosuchkey", "no", ""), nil},
		"InvalidObjectState":  {403, xmlError("InvalidObjectState", "archived", "<StorageClass>GLACIER</StorageClass><AccessTier>ARCHIVE_ACCESS</AccessTier>"), nil},
		"bare 404":            {404, "", nil},
		"bare 403":            {403, "", nil},
		"InvalidRequest":      {400, xmlError("InvalidRequest", "Bucket is missing Object Lock Configuration", ""), nil},
		"code without words":  {400, "<Error><Code>InvalidArgument</Code></Error>", nil},
		"InternalError":       {500, xmlError("InternalError", "try again", ""), nil},
		"SlowDown":            {503, xmlError("SlowDown", "Please reduce your request rate.", ""), nil},
		"bare 500":            {500, "", nil},
		"PermanentRedirect":   {301, xmlError("PermanentRedirect", "use the other endpoint", "<Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint>"), nil},
		"broken XML":          {400, "<Error><Code>Broken", nil},
		"connection reset":    {0, "", errors.New("connection reset by peer")},
		"RequestTimeout":      {400, xmlError("RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period.", ""), nil},
		"AccessDenied":        {403, xmlError("AccessDenied", "Access Denied", ""), nil},
		"XAdminUserNotFound":  {404, xmlError("XAdminUserNotFound", "unknown user", ""), nil},
		"NotImplemented":      {501, xmlError("NotImplemented", "A header you provided implies functionality that is not implemented", ""), nil},
		"PreconditionFailed":  {412, xmlError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", ""), nil},
		"bare 412 (HEAD)":     {412, "", nil},
		"InvalidRange (bare)": {416, "", nil},
	}
	for name, a := range answers {
		rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
			if a.err != nil {
				return nil, a.err
			}
			h := http.Header{"X-Amz-Request-Id": {"HDRREQ"}, "X-Amz-Id-2": {"HDRHOST"}, "Content-Type": {"application/xml"}}
			body := a.body
			if r.Method == http.MethodHead {
				body = "" // S3 answers a HEAD without a body
			}
			return &http.Response{StatusCode: a.status, Status: fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)),
				Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}, nil
		}}
		_, c, w := wireDest(t, "backups", wireModes["custom http"], rec)
		for _, tc := range wireCases("backups") {
			_, sdkErr := tc.sdk(t.Context(), c)
			sdkTries := len(rec.take())
			_, wireErr := tc.wire(t.Context(), w)
			wireTries := len(rec.take())
			if sdkErr == nil || wireErr == nil {
				t.Fatalf("%s/%s: SDK %v, wire %v: want errors", name, tc.name, sdkErr, wireErr)
			}
			if diff := cmp.Diff(describe(sdkErr), describe(wireErr)); diff != "" {
				t.Errorf("%s/%s: errors differ (-SDK +wire):\n%s", name, tc.name, diff)
			}
			if sdkTries != wireTries {
				t.Errorf("%s/%s: the SDK tried %d times, the wire %d", name, tc.name, sdkTries, wireTries)
			}
		}
	}
}

// Credentials that cannot be had fail the call as they fail the SDK's.
func TestWireCredentialErrorsAreTheSDKs(t *testing.T) {
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
	}}
	failing := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, &credentialsError{err: errors.New("no credentials in the environment")}
	})
	_, c, w := wireDest(t, "backups", []Option{WithServerName("http://s3.example.test:9000"), WithRegion("us-east-1"),
		WithCredentialsProvider(failing)}, rec)
	for _, tc := range wireCases("backups") {
		_, sdkErr := tc.sdk(t.Context(), c)
		_, wireErr := tc.wire(t.Context(), w)
		if sdkErr == nil || wireErr == nil {
			t.Fatalf("%s: SDK %v, wire %v: want errors", tc.name, sdkErr, wireErr)
		}
		if diff := cmp.Diff(describe(sdkErr), describe(wireErr)); diff != "" {
			t.Errorf("%s: errors differ (-SDK +wire):\n%s", tc.name, diff)
		}
		if n := len(rec.take()); n != 0 {
			t.Errorf("%s: %d requests sent without credentials", tc.name, n)
		}
	}
}
