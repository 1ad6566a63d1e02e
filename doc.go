// Package s3dest stores backup files in an Amazon S3 bucket or on an
// S3-compatible server (MinIO, Wasabi, Backblaze B2, Cloudflare R2, ...). It
// accepts the S3 URLs Duplicati writes.
//
// A Destination is one bucket and an optional prefix (a folder inside the
// bucket). Build one from options with New, or from a URL with Open, then
// call List, Stat, Put, Get, Rename and Delete with names relative to the
// prefix. New does no network I/O.
//
// # URLs
//
// A destination URL has Duplicati's grammar:
//
//	s3://[key-id[:secret]@]bucket[/prefix][?option=value&...]
//
// s3s:// is the same with use-ssl=true. The bucket is the host part, kept as
// typed; a port there is ignored (it belongs in s3-server-name). The prefix
// is the path, URL-decoded ("+" is a space, as in Duplicati), with a "/"
// added at the end. The object key is the prefix followed by the name.
//
// Option names ignore case and values are URL-decoded. A boolean option
// given without a value is true; 1, on, true, yes and 0, off, false, no are
// accepted. An option s3dest does not know is an error that names it and
// suggests the closest known name, so a typo never goes unnoticed.
//
//	option                             meaning
//	aws-access-key-id                  access key id (also auth-username, aws_access_key_id)
//	aws-secret-access-key              secret key (also auth-password, aws_secret_access_key)
//	s3-server-name                     endpoint: host, host:port or http(s)://host[:port] (also server-name)
//	s3-location-constraint             bucket region; "EU" means eu-west-1 (s3-european-buckets: eu-west-1)
//	s3-authentication-region           signing region (also s3-ext-authenticationregion)
//	use-ssl                            https; default true, unless s3-server-name says http://
//	s3-storage-class                   storage class for uploads (s3-use-rrs: REDUCED_REDUNDANCY)
//	s3-archive-classes                 comma list replacing the archive classes
//	s3-client                          aws or minio; both mean the same here
//	s3-list-api-version                v1 or v2; default v2 (also list-api-version)
//	s3-recursive-list                  list every key below the prefix
//	s3-lock-mode                       object-lock mode, governance or compliance (no effect yet)
//	s3-disable-chunk-encoding          never send aws-chunked bodies
//	s3-disable-payload-signing         send UNSIGNED-PAYLOAD instead of the body's SHA-256
//	s3-ext-forcepathstyle              true: path-style, false: virtual-hosted style
//	s3-ext-usedualstackendpoint        dual-stack AWS endpoint
//	s3-ext-usefipsendpoint             FIPS AWS endpoint
//	s3-ext-useaccelerateendpoint       S3 Transfer Acceleration
//	s3-ext-maxerrorretry               retries per request, 0 to 100
//	s3-ext-requestchecksumcalculation  when_supported or when_required
//	s3-ext-responsechecksumvalidation  when_supported or when_required
//	short-timeout                      bound on calls that move no data
//	list-timeout                       bound on each listing page
//	read-write-timeout                 idle timeout on object bodies
//
// Credentials are taken from aws-access-key-id, else the URL's user info,
// else auth-username (the same order for the secret). Timeouts are a number
// of seconds or a form like 30s, 10m, 1h30m or 2D.
//
// ParseURL reads a URL without any I/O; URL.Options turns it into options
// for New, and Open(ctx, raw, opts...) is New with the URL's options followed
// by opts, so explicit options win. URL.String and Destination.String give a
// canonical URL that ParseURL reads back to the same settings, without the
// secret key, which is never printed, logged or put in an error.
//
// # Regions
//
// The region requests are signed for is, in this order:
//
//  1. s3-authentication-region (WithAuthRegion);
//  2. s3-location-constraint (WithRegion);
//  3. the region a known host name encodes: AWS hosts such as
//     s3.eu-west-1.amazonaws.com or the older s3-eu-west-1 form, and
//     providers such as s3.REGION.wasabisys.com, s3.REGION.scw.cloud,
//     s3.REGION.backblazeb2.com, REGION.digitaloceanspaces.com,
//     REGION.linodeobjects.com and ACCOUNT.r2.cloudflarestorage.com
//     (region "auto");
//  4. otherwise requests are signed for us-east-1 and the first operation
//     asks the bucket's real region with one HeadBucket (the
//     x-amz-bucket-region header) and uses it from then on.
//
// Without s3-server-name the endpoint is the AWS one for the region, from the
// SDK's own endpoint resolver, so every partition gets its right host
// (s3.cn-north-1.amazonaws.com.cn in China). Destination.Region and
// Destination.Endpoint report what is in use.
//
// When the server answers that the bucket is in another region (301
// PermanentRedirect, or 400 AuthorizationHeaderMalformed), the destination
// switches to that region once and repeats the request. If it cannot, the
// error is ErrWrongRegion and its hint names the bucket's region when the
// server gave it.
//
// Requests are path-style (https://host/bucket/key) on every host that is not
// AWS, as in Duplicati. On AWS they are virtual-hosted (https://bucket.host/key)
// unless the bucket name cannot be a host name: upper case, underscores,
// longer than 63 characters, or dots over TLS (the wildcard certificate does
// not match them). s3-ext-forcepathstyle (WithPathStyle) overrides both.
//
// CreateBucket sends the location constraint, omitted for us-east-1. A
// bucket you already own counts as created; one another account owns is
// ErrBucketNameTaken. With WithCreateBucket(true), the first operation that
// finds the bucket missing creates it and carries on.
//
// # Storage classes
//
// Put sends the storage class of s3-storage-class (WithStorageClass) as
// x-amz-storage-class. Any string is passed through unchanged, so provider
// specific classes work; an empty one leaves the choice to the server
// (STANDARD on AWS). Rename copies on the server and keeps the object's
// storage class. FileInfo.StorageClass is what the server reports, STANDARD
// when it reports none.
//
// # Archived objects
//
// Objects in an archive class cannot be read until they are restored. The
// archive classes are GLACIER and DEEP_ARCHIVE unless s3-archive-classes
// (WithArchiveClasses) replaces them; matching ignores case. GLACIER_IR
// (Instant Retrieval) is readable at once and is not an archive class by
// default, unlike in Duplicati. IsArchiveClass applies the default list.
//
// List and Stat set FileInfo.Archived from the storage class, so a caller
// can skip archived objects without a request per object. Get of an archived
// object fails at once, without retries, with ErrObjectArchived (S3's 403
// InvalidObjectState); Rename refuses one before copying anything. s3dest
// does not restore objects: use Client with the SDK's RestoreObject.
//
// # Checksums
//
// Put sends a CRC32C of the data, which S3 checks before it stores the
// object. Get asks for the stored checksum and the SDK verifies the body
// against it. Other SDK default checksums are used on AWS endpoints only;
// other servers get RequestChecksumCalculation and ResponseChecksumValidation
// set to WhenRequired, since many of them reject or mangle the defaults. The
// s3-ext-requestchecksumcalculation and s3-ext-responsechecksumvalidation
// options override this.
//
// # Errors
//
// Every error s3dest returns is an *Error. Its Op, Bucket and Key say what
// failed, Code holds the S3 error code when there is one, Hint says how to
// fix it when s3dest knows, and Err is the cause. It unwraps both to a
// category sentinel and to the cause, so either test works:
//
//	if errors.Is(err, s3dest.ErrObjectNotFound) { ... }
//	var apiErr smithy.APIError
//	if errors.As(err, &apiErr) { ... apiErr.ErrorCode() ... }
//
// The categories are:
//
//	ErrBucketNotFound    the bucket does not exist
//	ErrObjectNotFound    no object has that name
//	ErrObjectArchived    the object must be restored before it can be read
//	ErrAccessDenied      credentials refused or a permission missing
//	ErrBucketNameTaken   another account owns a bucket of that name
//	ErrInvalid           a URL, option, name or argument was refused
//	ErrWrongRegion       the bucket is in another region and s3dest could not switch
//
// Errors are classified by S3 error code, never by message text. Errors
// with no category (network failures, throttling, server errors) still
// carry their cause. Delete of a missing object is not an error.
package s3dest
