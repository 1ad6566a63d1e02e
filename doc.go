// Package s3dest stores backup files in an Amazon S3 bucket or on an
// S3-compatible server (Wasabi, Backblaze B2, Cloudflare R2, Scaleway,
// DigitalOcean Spaces, MinIO, versitygw, ...). It accepts the S3 URLs
// Duplicati stores.
//
// A Destination is one bucket and an optional prefix (a folder inside the
// bucket). Build one from options with New, or from a URL with Open, then
// call List, Stat, Put, Get, GetRange, Rename, Delete and DeleteMany with
// names relative to the prefix. New and Open do no network I/O. Client
// returns the AWS SDK client for anything s3dest does not wrap.
//
// A name is valid UTF-8 without control characters or U+FFFE and U+FFFF
// (which XML, and so S3's listings and batch deletes, cannot carry), at
// most 1,024 bytes with the prefix, and has no empty, "." or ".." segment:
// no leading or trailing '/' and no "//". Servers that store objects as files would read
// "x//y" as "x/y" and "a/../b" as "b". Every other character, '+', '%',
// '?', '#' and spaces included, names exactly one object. An invalid name
// is ErrInvalid before any request.
//
// Package s3test (github.com/s3dest/s3dest/s3test) is an S3 server in the
// test's own process: a program built on s3dest tests itself against it,
// without an account or a network.
//
// This comment is the reference for the URL grammar, the region order, the
// archive classes and the error contract.
//
// # URLs
//
// A destination URL has Duplicati's grammar:
//
//	s3://[key-id[:secret]@]bucket[/prefix][?option=value&...]
//
// s3s:// is the same with use-ssl=true; use-ssl, s3s:// and a scheme in
// s3-server-name that contradict each other are an error, never a silent
// switch to plain HTTP. The bucket is the host part, kept as
// typed; a port there is ignored (it belongs in s3-server-name). Duplicati
// 1.x wrote the S3 host there and the bucket in the path
// (s3://s3.amazonaws.com/bucket/folder); like Duplicati now, s3dest reads
// that host as the bucket, and when no such bucket exists the error's hint
// names the URL to write: s3://bucket/folder?s3-server-name=HOST. The prefix
// is the path, URL-decoded ("+" is a space, as in Duplicati), with a "/"
// added at the end. The object key is the prefix followed by the name.
//
// Keys and secrets in the user part are percent-decoded; '+' stays '+'. A
// secret may hold a raw '/' (AWS secrets often do), ':' or '@' where the URL
// still reads one way only; where it could also be read as a bucket, a port
// or a folder, ParseURL refuses it, without showing it, and asks for
// percent-encoding (%2F, %40, %3A) or aws-secret-access-key=.
//
// Option names ignore case and values are URL-decoded. A boolean option
// given without a value is true; 1, on, true, yes and 0, off, false, no are
// accepted. An option s3dest does not know is an error that names it and
// suggests the closest known name, so a typo in s3-storage-class cannot
// store data in the wrong class. An option given twice, in one spelling or
// two (server-name and s3-server-name), must mean the same both times
// ("true" and "1" do): different values are an error that names the
// option, not the values, rather than one of them dropped unseen. The
// options, with their other spellings:
//
//	option                             meaning
//	aws-access-key-id                  access key id (also aws_access_key_id)
//	aws-secret-access-key              secret key (also aws_secret_access_key)
//	auth-username, auth-password       the key id and the secret, lowest precedence
//	session-token                      session token of temporary keys (also aws-session-token)
//	profile                            profile of the AWS config files (also aws-profile)
//	anonymous                          send unsigned requests, for public buckets
//	s3-server-name                     endpoint: host, host:port or http(s)://host[:port] (also server-name)
//	s3-location-constraint             the bucket's region; "EU" means eu-west-1
//	s3-authentication-region           signing region
//	use-ssl                            https; default true, unless s3-server-name says http://
//	s3-storage-class                   storage class of uploads, passed through
//	s3-archive-classes                 comma list replacing the archive classes; empty: none
//	s3-client                          aws or minio; both mean the same here
//	s3-list-api-version                v1 or v2; default v2 (also list-api-version)
//	s3-recursive-list                  list every key below the prefix
//	s3-lock-mode                       object-lock mode: governance (default) or compliance
//	remote-file-lock-duration          lock every upload this long, e.g. 30D; 0: no lock
//	s3-disable-chunk-encoding          no aws-chunked bodies: request checksums only where required
//	s3-disable-payload-signing         send UNSIGNED-PAYLOAD instead of the body's SHA-256
//	s3-server-side-encryption          AES256, aws:kms or aws:kms:dsse (WithServerSideEncryption)
//	s3-sse-kms-key-id                  the KMS key of aws:kms; default the account's
//	s3-sse-customer-key                SSE-C key, base64 of 32 bytes (WithCustomerKey): a secret
//	s3-ext-forcepathstyle              true: path-style, false: virtual-hosted style
//	s3-ext-usedualstackendpoint        dual-stack AWS endpoint
//	s3-ext-usefipsendpoint             FIPS AWS endpoint
//	s3-ext-useaccelerateendpoint       S3 Transfer Acceleration
//	s3-ext-maxerrorretry               retries after the first try, 0 to 100; default 2
//	s3-ext-requestchecksumcalculation  when_supported or when_required
//	s3-ext-responsechecksumvalidation  when_supported or when_required
//	s3-ext-serviceurl                  http(s)://host[:port]: overrides s3-server-name
//	s3-ext-usehttp                     true: plain HTTP, false: HTTPS (use-ssl)
//	s3-ext-authenticationregion        overrides s3-authentication-region
//	s3-ext-timeout                     bound on each request that moves no data
//	s3-ext-readwritetimeout            idle timeout on object bodies
//	s3-ext-connecttimeout              bound on connecting; default 30s
//	s3-ext-proxyhost, s3-ext-proxyport an HTTP proxy for every request
//	s3-ext-maxconnectionsperserver     cap on connections to the server (also s3-ext-connectionlimit)
//	short-timeout                      bound on calls that move no data; default 30s
//	list-timeout                       bound on each listing page; default 10m
//	read-write-timeout                 idle timeout on object bodies; default 30s
//	s3-version-at                      a read-only view of the bucket as it stood then, RFC 3339 (WithVersionAt)
//	s3-european-buckets                removed from Duplicati: region eu-west-1
//	s3-use-rrs                         removed from Duplicati: storage class REDUCED_REDUNDANCY
//
// The key id is aws-access-key-id, else the URL's user, else auth-username;
// the secret follows the same order. s3-location-constraint wins over
// s3-european-buckets and s3-storage-class over s3-use-rrs. One URL may
// not combine credential sources that contradict each other: anonymous with
// keys or a profile, a profile with keys, a session token without keys.
// Time spans (the timeouts and remote-file-lock-duration) are a number of
// seconds, a Go duration such as 1h30m, or numbers with the units s, m, h,
// D (day), W (week), M (30 days) and Y (365 days), as in 30D or 1Y6M. A
// timeout of 0 removes the limit.
//
// The s3-ext- options are Duplicati's: it turns every setting of the AWS
// .NET SDK's AmazonS3Config into s3-ext- and the setting's name in lower
// case, and applies them after its own options, so s3-ext-serviceurl,
// s3-ext-usehttp and s3-ext-authenticationregion win over s3-server-name,
// use-ssl and s3-authentication-region. An explicit use-ssl or s3s:// that
// s3-ext-usehttp, or the scheme of s3-ext-serviceurl, contradicts is an
// error. s3-ext-timeout applies to short-timeout and list-timeout,
// s3-ext-readwritetimeout to read-write-timeout; with both given, the
// shorter applies, as both limits do in Duplicati. Every other name
// Duplicati can write, those of the SDK v3 that older configurations carry
// included (s3-ext-signatureversion, s3-ext-logresponse,
// s3-ext-buffersize, ...), is accepted and has no effect: New logs their
// names once, at Info (the README lists each one and why). Values are
// checked as .NET reads them: booleans true or false only
// (s3-ext-forcepathstyle and the three endpoint switches also take 1, yes,
// on and an empty value, as s3dest always did), whole numbers, an enum's
// names, and time spans as .NET writes them (00:05:00, 1.00:00:00,
// 00:00:30.5) or as Duplicati does (300 seconds, 5m).
//
// ParseURL reads a URL without any I/O; URL.Options turns it into options
// for New, and Open(ctx, raw, opts...) is New with the URL's options followed
// by opts, so explicit options win. URL.String and Destination.String give a
// canonical URL that ParseURL reads back to the same settings, without the
// secret key and the session token, which are never printed, logged or put
// in an error.
//
// # Regions
//
// The bucket's region picks the AWS host and is the LocationConstraint of
// CreateBucket. It is the first of:
//
//  1. s3-location-constraint (WithRegion);
//  2. the region the server name encodes: AWS hosts such as
//     s3.eu-west-1.amazonaws.com, the older s3-eu-west-1.amazonaws.com and
//     the .amazonaws.com.cn hosts, and providers that put the region in
//     the host name: s3.REGION.wasabisys.com, s3.REGION.scw.cloud,
//     s3.REGION.backblazeb2.com, REGION.digitaloceanspaces.com,
//     REGION.linodeobjects.com, s3.REGION.cloud.ovh.net,
//     s3.REGION.ionoscloud.com, s3.REGION.idrivee2.com, Oracle, Aliyun OSS,
//     Tencent COS, Seagate Lyve, Rabata, Internxt; "auto" for
//     ACCOUNT.r2.cloudflarestorage.com and storage.googleapis.com;
//  3. s3-authentication-region (WithAuthRegion);
//  4. otherwise it is unknown: requests go out for us-east-1, and the first
//     operation asks the server with one HeadBucket, whose
//     x-amz-bucket-region header names the region (AWS sends it on 200, 301,
//     400 and 403 alike). The destination switches to it, logs it, and uses
//     it from then on. Concurrent first operations share the one probe.
//
// Requests are signed for s3-authentication-region when it is given, else for
// the bucket's region, else for us-east-1. Without s3-server-name the endpoint
// is the AWS one for the region, from the SDK's own endpoint resolver, so
// every partition gets its right host (s3.cn-north-1.amazonaws.com.cn in
// China, GovCloud, dual-stack, FIPS). Destination.Region and
// Destination.Endpoint report what is in use.
//
// When a request fails because the bucket is elsewhere (301
// PermanentRedirect, or 400 AuthorizationHeaderMalformed, "the region
// 'us-east-1' is wrong; expecting 'eu-west-1'"), the destination reads the
// right region from the x-amz-bucket-region header, else from the
// AuthorizationHeaderMalformed message (S3-compatible servers send no
// header), else from a HeadBucket; it then switches to that region once,
// logs it, and repeats the request. If it cannot, the error is
// ErrWrongRegion, and its hint names the bucket's region when the server gave
// it.
//
// Requests are path-style (https://host/bucket/key) on every host that is not
// AWS, as in Duplicati. On AWS they are virtual-hosted (https://bucket.host/key)
// unless the bucket name cannot be a host name: upper case, underscores,
// longer than 63 characters, or dots over TLS (the wildcard certificate does
// not match them). s3-ext-forcepathstyle (WithPathStyle) overrides both.
//
// CreateBucket sends the location constraint, omitted for us-east-1; when
// the server refuses it, the hint names the region the server takes, as
// far as its answers said. A bucket you already own counts as created; one another account owns is
// ErrBucketNameTaken. With WithCreateBucket(true), the first Put that finds
// the bucket missing creates it and carries on; reads, listings and deletes
// never create a bucket.
//
// # Storage classes
//
// Put sends the storage class of s3-storage-class (WithStorageClass) as
// x-amz-storage-class. Any string is passed through unchanged, so provider
// specific classes work; an empty one leaves the choice to the server
// (STANDARD on AWS). WithStorageClassFunc chooses the class per upload from
// the name and size (-1 when unknown), so that a backup program can send
// data volumes to an archive class and keep its small index and list files
// readable. Rename keeps the object's storage class, above 5 GiB too.
// FileInfo.StorageClass is what the server reports, STANDARD when it reports
// none.
//
// # Archived objects
//
// Objects in an archive tier cannot be read until they are restored. The
// archive classes are GLACIER and DEEP_ARCHIVE unless s3-archive-classes
// (WithArchiveClasses) replaces them; matching ignores case. GLACIER_IR
// (Instant Retrieval) is readable at once and is not an archive class by
// default, unlike in Duplicati. IsArchiveClass applies the default list.
// An INTELLIGENT_TIERING object is archived when HEAD reports its
// x-amz-archive-status as ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS.
//
// FileInfo.Archived means reading the object now would fail: it is in an
// archive tier and has no readable restored copy. FileInfo.Restoring says a
// restore is under way, and FileInfo.RestoredUntil when a restored copy
// stops being readable.
//
// List reads these from the listing itself, one request per page: it asks
// ListObjectsV2 for each object's RestoreStatus. A server that refuses that
// attribute gets a plain listing instead (decided once per Destination, and
// logged); objects in an archive class are then listed as archived even
// when restored, and Stat tells the truth. Listings do not show
// Intelligent-Tiering archive tiers: such objects list as not archived, and
// only Stat sees their tier. Stat reads everything from one HEAD.
//
// Get of an archived object fails after one request, without retries, with
// an error that is ErrObjectArchived and unwraps to *types.InvalidObjectState
// (S3's 403). Rename refuses an archived object before copying anything.
//
// Restore asks for a readable copy, for RestoreOptions.Days (default 7;
// ignored for Intelligent-Tiering) with RestoreOptions.Tier (Standard by
// default, Bulk or Expedited). It is idempotent: an object that is readable,
// being restored, or restored for long enough needs no request, a restore
// already in progress is success, and a restored copy about to expire is
// extended. DEEP_ARCHIVE with the Expedited tier is refused (ErrInvalid)
// before any request. WaitRestored then polls every poll (default one
// minute) until every named object is readable: a HEAD per object, or one
// listing sweep for more than 50 objects. It honours ctx, logs progress, and
// fails at once with ErrObjectArchived and a *NotRestoringError naming the
// objects that are archived with no restore under way. The flow:
//
//	if err := dest.Get(ctx, name, w); errors.Is(err, s3dest.ErrObjectArchived) {
//		err = dest.Restore(ctx, name, s3dest.RestoreOptions{Tier: "Bulk"})
//		...
//		ctx, cancel := context.WithTimeout(ctx, 48*time.Hour)
//		defer cancel()
//		err = dest.WaitRestored(ctx, []string{name}, 10*time.Minute)
//		...
//		err = dest.Get(ctx, name, w)
//	}
//
// # Archive rule
//
// Instead of uploading into an archive class, a bucket's lifecycle rule
// can move objects there some days after their upload, as Duplicati's
// documentation suggests: recent backups stay readable, older data goes
// cold. SetArchiveAfter(ctx, days, class) sets that rule for the
// destination's prefix; ArchiveAfter reads it back, 0 and "" when there is
// none; days 0 removes it. SetArchiveAfterPrefix and ArchiveAfterPrefix do
// the same for the names that start with a string, such as Duplicati's
// "duplicati-b" data files, so that index and list files stay readable.
// The rule's ID is "s3dest-archive-after:" and its key prefix (a SHA-256
// of it past S3's 255 characters); every other rule of the bucket, and
// its minimum object size for transitions, is written back as it was
// read, and removing the last rule deletes the configuration, as S3 has no
// empty one. Days are 0 to 36500 and the class is passed through, both
// checked before any request; AWS moves objects to STANDARD_IA and
// ONEZONE_IA only after 30 days or more, and by default leaves objects
// under 128 KiB where they are. The write carries Content-MD5, as for
// object lock. Reading and changing rules needs the bucket permissions
// s3:GetLifecycleConfiguration and s3:PutLifecycleConfiguration. A server
// without transition rules answers NotImplemented: ErrNotSupported, with a
// hint to upload in the archive class instead (versitygw, SeaweedFS and
// rclone serve s3 have none).
//
// # Large objects
//
// Put streams any io.Reader. When the length is known (Len, Size, a seeker
// or a regular *os.File) and at most the part size, or when a reader of
// unknown length ends within its first part, the object goes up in one
// PutObject. Otherwise it is a multipart upload whose parts are sent
// concurrently: WithPartSize (default 16 MiB, 5 MiB to 5 GiB) and
// WithConcurrency (default 4, up to 64). A Put holds at most concurrency +
// 1 parts of data, and reuses its buffers. S3 takes at most 10,000 parts:
// a known length is cut into equal parts, of the part size or, above 10,000
// of them (160 GiB at the default), of a tenth-thousandth of the object; a
// stream of unknown length doubles its part size after every 900 parts, so
// that it can reach S3's 5 TiB limit: at the defaults 16 MiB × 5 = 80 MiB
// of buffers up to 14 GiB streamed, 160 MiB up to 42 GiB, 5 GiB for a
// stream near 1 TiB. WithMaxPartSize caps the parts, and so the memory; a
// longer object then fails with ErrInvalid. All Puts of a Destination
// share one memory limit for their part buffers (WithMemoryLimit, default
// 256 MiB): a Put that would pass it waits for buffers, never fails for
// them, and always gets at least one. Any failure (reading r,
// sending a part, ctx ending) aborts the upload: no partial object is left
// behind. CleanupUploads removes the uploads a crashed process left under
// the prefix. WithProgress reports bytes moved by Put and Get.
//
// Put takes options for one call: IfAbsent stores the object only if its
// name is free (If-None-Match: *, on the PutObject or on the Complete of a
// multipart upload; a taken name is ErrObjectExists, and a retry that
// finds the object its own lost answer stored succeeds), as S3,
// versitygw, SeaweedFS and rclone serve s3 honour;
// PutStorageClass chooses this upload's class; PutMetadata stores user
// metadata, which Stat returns in FileInfo.Metadata and Rename keeps.
//
// NewReader and NewRangeReader read an object as a stream, checked as Get
// checks it: the Read that ends a stream whose bytes are not the object's
// returns ErrCorrupt instead of io.EOF.
//
// GetRange reads part of an object. Rename copies on the server; above
// 5 GiB, the limit of CopyObject, it makes a multipart copy that keeps the
// storage class and the metadata. DeleteMany deletes in batches of 1,000 and
// reports each name that could not be deleted.
//
// # Integrity
//
// Every upload carries a CRC32C of its body, computed by s3dest, that the
// server verifies; a body damaged on the way (BadDigest) is sent once more.
// Objects sent in parts record a full-object CRC32C, so Stat
// (FileInfo.Checksum) and Get see one whole-object checksum whatever the
// part size. If a server stores a checksum other than the one sent, the
// object is deleted and Put fails with ErrCorrupt.
//
// Get hashes what it delivers and returns an error that is ErrCorrupt when
// the bytes or the length do not match, instead of delivering them
// silently; what it wrote must then be discarded. It checks, the cheapest
// first: the object's whole-object checksum; else a composite multipart
// checksum ("...-N", a checksum of the part checksums), hashed part by part;
// else, on servers that keep no checksum, the ETag: the MD5 of a
// single-part object, or the MD5 of the part MD5s of a multipart one (not
// under SSE-KMS or SSE-C, whose ETag is no MD5). The part boundaries come
// from the s3dest-parts metadata s3dest records on the multipart objects it
// writes, else from the lengths of the first and last part and s3dest's
// rules for cutting parts; an object another tool cut otherwise is read
// with its length checked, never called corrupt. GetRange checks lengths
// only: no whole-object digest can check a range.
//
// Servers that refuse flexible checksums get Content-MD5 instead (Backblaze
// B2, older MinIO and Ceph), also on DeleteObjects and lock requests, and
// servers that take only composite multipart checksums (Cloudflare R2,
// some MinIO versions) get those. Content-MD5 is otherwise sent only where
// a server asks for it or object lock needs it: MD5 is many times slower
// than CRC32C. The SDK's own default checksums are used on AWS endpoints
// only; other servers get RequestChecksumCalculation and
// ResponseChecksumValidation set to WhenRequired, since many of them reject
// or mangle the defaults (s3-ext-requestchecksumcalculation and
// s3-ext-responsechecksumvalidation override this). docs/INTEGRITY.md in
// the repository has the details, which server gets what, and the cost.
//
// # Errors
//
// Every error s3dest returns is an *Error, except DeleteMany's, which joins
// one *Error per failed name (errors.Join). Its Op, Bucket and Key say what
// failed, Code holds the S3 error code when there is one, Hint says how to
// fix it when s3dest knows, and Err is the cause. It unwraps both to a
// category sentinel and to the cause, so either test works:
//
//	if errors.Is(err, s3dest.ErrObjectNotFound) { ... }
//	var apiErr smithy.APIError
//	if errors.As(err, &apiErr) { ... apiErr.ErrorCode() ... }
//
// Its message leads with what happened and what to do, and ends with the
// request id S3 gave, for a support ticket:
//
//	s3dest: get s3://backups/vol: object not found: GetObject answered 404 NoSuchKey: The specified key does not exist. [request id 4Q2...]
//
// %+v adds the cause as the SDK wrote it (status line, host id, retries).
//
// The categories are:
//
//	ErrBucketNotFound    the bucket does not exist
//	ErrObjectNotFound    no object has that name
//	ErrObjectArchived    the object must be restored before it can be read
//	ErrAccessDenied      credentials refused or missing, or a permission missing
//	ErrBucketNameTaken   another account owns a bucket of that name
//	ErrInvalid           a URL, option, name or argument was refused
//	ErrWrongRegion       the bucket is in another region and s3dest could not switch
//	ErrCorrupt           data does not match its checksum or length
//	ErrNotSupported      the server does not implement the operation
//
// A failure of the caller's own reader (Put) or writer (Get) is no answer
// of the server: it is reported as the caller's, its category none of the
// above, and no region or endpoint is changed for it. errors.Is finds the
// caller's error, and whatever it wraps (an s3dest category too, when the
// reader is another Destination's object); errors.As does not look inside
// it, so that an API error in it is never taken for this bucket's.
//
// Errors are classified by S3 error code, and by HTTP status only for
// answers without one (a bare 404 to HEAD), never by message text: a 404
// with a code s3dest does not know is not "not found". The codes of unknown
// keys and refused signatures of AWS and the common S3-compatible servers
// (versitygw's 404 XAdminUserNotFound, R2's 401 Unauthorized, ...) are
// ErrAccessDenied. An https request answered in plain HTTP is ErrInvalid
// and a server certificate from an unknown authority fails too, both at
// once, without retries, with a hint. TLS trusts the system's
// authorities, or those of the PEM file AWS_CA_BUNDLE names, as the AWS
// SDKs do. Errors with no
// category (network failures, throttling that outlasted the retries,
// server errors) still carry their cause, and a cancelled or expired ctx is
// reachable with errors.Is(err, context.Canceled) or
// context.DeadlineExceeded. Delete of a missing object is not an error.
//
// # Retries and timeouts
//
// Each request is tried up to WithRetryMaxAttempts times (default 3, the
// first try included; s3-ext-maxerrorretry is this minus one), with the
// SDK's exponential backoff and jitter. Throttling (503 SlowDown), 429 Too
// Many Requests, other 5xx answers and broken connections are retried;
// permanent errors (403, 404, InvalidObjectState) never are, and a
// BadDigest upload is sent once more, not again. There is no client-side
// retry quota, so a burst of throttling slows a backup down instead of
// failing it. A Get whose body breaks after bytes reached w is not
// retried: it returns the error.
//
// A retry may see what a first try whose answer was lost did. s3dest gives
// the true answer all the same: a CompleteMultipartUpload retried into
// NoSuchUpload checks the object stored against the upload (size, and its
// checksum or ETag) and succeeds when it is the one uploaded; a
// CreateMultipartUpload sent more than once, or failed without an answer,
// aborts the uploads of the key that the server started meanwhile, so
// none is left to be billed; a retried CopyObject, DeleteObjects,
// RestoreObject or retention request finds its work done and succeeds.
//
// WithTimeouts (short-timeout, list-timeout, read-write-timeout) bounds
// single calls so that a stalled server cannot hang a backup. Short (default
// 30s) bounds calls that move no object data: HEAD, DELETE, bucket calls,
// starting a multipart upload, restore and lock requests. List (default 10m)
// bounds each listing page. ReadWrite (default 30s) is an idle timeout: a Put
// or Get fails when a request that moves an object body is under way and no
// byte of it moved for that long; time spent in the caller's reader or
// writer does not count, and the error is a timeout (errors.Is
// context.DeadlineExceeded), not a cancellation. A zero field keeps its
// default and NoTimeout removes the limit; in a URL, 0 removes it, as in
// Duplicati. Server-side copies (Rename) have no timeout; bound them with
// ctx.
//
// # Encryption
//
// WithServerSideEncryption (s3-server-side-encryption, s3-sse-kms-key-id)
// asks the server to encrypt every object s3dest writes, Put and Rename's
// copy alike, with keys it manages: SSE-S3 (AES256), SSE-KMS (aws:kms,
// with a key id or the account's default key) or DSSE-KMS (aws:kms:dsse);
// reads need nothing. WithCustomerKey (s3-sse-customer-key, base64) is
// SSE-C: a 32-byte key the server uses and forgets, sent with every
// request that writes, reads or copies an object (every part of a
// multipart upload, both sides of a copy); S3 takes it over HTTPS only.
// The key is a secret, like the secret access key: String, errors and logs
// never show it, and an object cannot be read without it. Under SSE-KMS
// and SSE-C the ETag is no MD5 of the data: s3dest then checks objects by
// their CRC32C alone, never by their ETag.
//
// # Credentials
//
// Requests are signed with one credential source, the last one given:
//
//   - static keys: the URL's, or WithCredentials;
//   - temporary keys with their session token: session-token, or
//     WithSessionCredentials;
//   - any aws-sdk-go-v2 provider (stscreds, ssocreds, your own):
//     WithCredentialsProvider, cached for you;
//   - none: anonymous=true, or WithAnonymous, for public buckets;
//   - otherwise the AWS default chain: environment variables, the shared
//     config and credentials files (profile=, WithProfile, or AWS_PROFILE),
//     SSO, web identity, and container and instance roles.
//
// New reads the environment and the files of the default chain, and fails
// with ErrInvalid when a named profile is not there; the chain's remote
// sources are asked on the first request. For a server outside AWS the chain
// never asks the instance metadata service, which only hangs where there is
// none: with no credentials anywhere, the first request fails at once with
// ErrAccessDenied and says how to give some. The source the chain used is
// logged once. The secret and the session token are never printed, logged
// or put in an error.
//
// # Object lock
//
// In a bucket created with object lock enabled, a locked object version
// cannot be deleted or changed before its retain-until date: in GOVERNANCE
// mode, except by principals allowed to bypass it; in COMPLIANCE mode, by no
// one.
// s3dest does not create such buckets. SetLock sets an object's retention
// until a time, in the mode of s3-lock-mode (WithLockMode; GOVERNANCE by
// default, any case, sent upper-case); LockedUntil returns it, or the zero
// time when the object is not locked. remote-file-lock-duration
// (WithLockOnUpload) locks every object Put uploads, and the copy Rename
// makes, until that long after the upload or copy starts. Lock buckets are
// versioned: Delete, and the delete that ends a Rename, hide a locked object
// behind a delete marker, and its locked version stays, billed, until it is
// removed after its lock ends. Lock requests and locked uploads carry Content-MD5, which
// lock buckets on servers without flexible checksums require; for a single
// PUT that costs one MD5 pass over the data. A bucket without object lock
// answers InvalidRequest: ErrInvalid, with a hint. Reading those versions
// back is the next section.
//
// # Recovering from deletion or ransomware
//
// A versioned bucket keeps what a write replaces: an overwrite keeps the
// old version, a delete puts a delete marker in front of it. Object lock
// (remote-file-lock-duration, SetLock) keeps those versions from being
// removed before their lock ends, by an attacker holding the backup's keys
// and by a buggy prune alike; lock buckets are versioned. Nothing written
// before versioning was enabled has old versions: enable it, or create the
// bucket with object lock, before you need it.
//
// To read a backup as it stood before the damage:
//
//  1. Find a time T after the last good backup ended and before the
//     damage began. Versions lists an object's versions and delete
//     markers, newest first, with their times: the first version of a
//     file the ransomware rewrote, or the delete markers of a prune, date
//     the damage.
//  2. Open a view: WithVersionAt(T), or s3-version-at=T (RFC 3339) in the
//     URL. List, Stat, Get, GetRange and the readers then see each name as
//     it was at T: deleted objects are back, those created later are not,
//     overwritten ones read their old bytes, verified as Get verifies. An
//     archived version fails with ErrObjectArchived; Restore and
//     WaitRestored bring it back as they do a current one.
//  3. Copy what the view reads to a Destination opened without it: the
//     same bucket (writing the old bytes as new current versions), another
//     prefix or another bucket. The view itself is read-only: every write
//     is ErrInvalid before any request, so a recovery cannot damage the
//     bucket further.
//
// In code, with dest a Destination opened without the view:
//
//	past, err := s3dest.Open(ctx, rawURL, s3dest.WithVersionAt(t))
//	...
//	for fi, err := range past.List(ctx) {
//		...
//		r, err := past.NewReader(ctx, fi.Name)
//		...
//		err = dest.Put(ctx, fi.Name, r)
//		r.Close()
//	}
//
// A version counts from its LastModified time, which S3 keeps to the
// second: the view at T shows, for each name, the newest version written
// at or before T, and nothing where that is a delete marker. What was
// written within T's second counts as written before it, so choose T at
// least a second after the last write you trust. GetVersion reads one
// version by its id, outside any view. The bucket must be versioned
// (Enabled, or Suspended, which keeps the versions it has): an unversioned
// one is ErrInvalid with a hint, never an empty view or the present passed
// off as the past.
//
// The view relies on ListObjectVersions as AWS documents it: each
// version dated when it was written, each key's versions and delete
// markers listed together, newest first. Measured with the behavioural
// suite: the in-process fake (s3test, after EnableVersioning) and
// SeaweedFS answer so, and pass all of it, multipart versions and
// deletes within the second included. versitygw (v1.8.0, run with
// --versioning-dir; without it, enabling versioning is refused) keeps
// versions and serves them by id, so Versions, GetVersion and delete
// markers work there; but its listings date an old version when it was
// replaced rather than written, and list every delete marker before
// every version, so no point in time can be read from them and a view
// there is wrong (the suite pins this). rclone serve s3 keeps no versions
// (PutBucketVersioning is 501 NotImplemented): its buckets are
// unversioned, and the view refuses them. On any other server, check that
// Versions dates an overwritten object's old version when it was written
// before trusting a view.
//
// # Layout
//
// Each concept has one file:
//
//   - s3dest.go: Destination, New, Open, and do, the one path every request
//     takes (region discovery and healing, bucket creation, error wrapping);
//   - options.go: every Option, grouped as the settings they record;
//   - url.go, urloptions.go, urlext.go: ParseURL, URL.String, the option
//     table and Duplicati's s3-ext-* options;
//   - region.go, client.go: endpoints and regions; the SDK client, its
//     transport and retryer; credentials.go: where keys come from;
//   - wire.go, wireops.go, wireheaders.go: the wire, s3dest's lean path
//     for PutObject, UploadPart, GetObject, HeadObject and DeleteObject:
//     the SDK's requests, signatures, retries, outputs and errors without
//     its per-call middleware (an eighth to a tenth of the allocations,
//     and a quarter to an eighth of the client's own time per call);
//   - names.go: bucket, prefix and name rules;
//   - objects.go: List, Stat, Delete; copy.go: Rename (server-side copy);
//     batch.go: DeleteMany, CleanupUploads; bucket.go: CreateBucket, Test,
//     TestWrite;
//   - put.go: Put, its per-call options and single-request uploads;
//     source.go: reading the caller's reader; upload.go: streaming
//     multipart uploads; multipart.go: the multipart lifecycle uploads and
//     copies share; memory.go: the part-buffer budget (WithMemoryLimit);
//   - get.go: Get and GetRange; reader.go: NewReader, NewRangeReader;
//     verify.go: checking what was read; checksum.go: CRC32C, MD5 and the
//     server's checksum fallbacks;
//   - encryption.go: SSE-S3, SSE-KMS and customer keys;
//   - glacier.go, restore.go: archive classes, Restore, WaitRestored;
//     lifecycle.go: the archive rule; lock.go: object lock; versions.go:
//     Versions and GetVersion; versionat.go: the point-in-time view
//     (WithVersionAt);
//   - timeouts.go: Timeouts and the read-write idle timer; progress.go:
//     Progress reports; clock.go: the clock tests replace;
//   - errors.go: Error, the categories and their hints.
//
// Tests follow the same names; suite_test.go runs the behavioural suite
// on the in-process fake (s3test) and on real servers.
package s3dest
