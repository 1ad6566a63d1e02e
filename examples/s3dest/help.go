package main

const shortUsage = `usage: s3dest COMMAND [flags] [URL] [arguments]

  s3dest help            commands, URL options and exit codes
  s3dest demo            a session against a built-in fake S3 server
  s3dest ls 's3://bucket/prefix?s3-location-constraint=REGION&aws-access-key-id=KEY&aws-secret-access-key=SECRET'
`

// urlHelp documents the destination URL: every option s3dest accepts,
// with s3dest's defaults (the package documentation is the reference).
const urlHelp = `THE DESTINATION URL
  Each command but demo and help takes the destination URL as its first
  argument, when that contains "://" (or starts with "s3:", a URL with a
  slash missing); otherwise it reads the environment variable S3DEST_URL. Quote the URL: "?" and "&" mean something to the shell.

    s3://[key-id[:secret]@]bucket[/prefix][?option=value&...]

  s3s:// is the same with use-ssl=true. The bucket is kept as typed; the
  prefix is a folder in the bucket, and object names are relative to it.
  Option names ignore case; values are URL-decoded; a boolean given without a
  value is true (1/on/true/yes, 0/off/false/no). An unknown option is an error
  that names the closest known one. Duplicati's URLs work as they are.

  option                              meaning (default)
  aws-access-key-id                   access key id; also auth-username,
                                      aws_access_key_id, or the URL's user
  aws-secret-access-key               secret key; also auth-password,
                                      aws_secret_access_key, or the URL's password
  session-token                       session token of temporary keys; also aws-session-token
  profile                             AWS profile of the shared config files; also aws-profile
  anonymous                           send unsigned requests, for public buckets (false)
  s3-server-name                      endpoint: host, host:port or http(s)://host[:port];
                                      also server-name (the AWS endpoint of the region)
  s3-location-constraint              the bucket's region, and where mb creates it;
                                      EU means eu-west-1 (discovered from the bucket)
  s3-authentication-region            signing region (s3-ext-authenticationregion overrides it)
                                      (the region)
  use-ssl                             https (true, unless s3-server-name starts with http://)
  s3-storage-class                    storage class of uploads, e.g. STANDARD_IA, GLACIER
                                      (the server's default)
  s3-archive-classes                  comma list of classes that need a restore
                                      (GLACIER,DEEP_ARCHIVE; GLACIER_IR is readable)
  s3-client                           aws or minio: one client, both accepted (aws)
  s3-list-api-version                 v1 or v2; also list-api-version (v2)
  s3-recursive-list                   list every key below the prefix (false)
  s3-lock-mode                        object-lock mode: governance or compliance (governance)
  remote-file-lock-duration           lock every upload for this long, e.g. 30D, 1Y (no lock)
  s3-disable-chunk-encoding           never send aws-chunked bodies (false)
  s3-disable-payload-signing          send UNSIGNED-PAYLOAD instead of the body's SHA-256 (false)
  s3-server-side-encryption           AES256, aws:kms or aws:kms:dsse for every object written (none)
  s3-sse-kms-key-id                   the KMS key of aws:kms (the account's default)
  s3-sse-customer-key                 SSE-C key, base64 of 32 bytes, sent on every read and write; a secret (none)
  s3-ext-forcepathstyle               true: path-style, false: virtual-hosted
                                      (path-style outside AWS and for names that need it)
  s3-ext-usedualstackendpoint         dual-stack AWS endpoint (false)
  s3-ext-usefipsendpoint              FIPS AWS endpoint (false)
  s3-ext-useaccelerateendpoint        S3 Transfer Acceleration (false)
  s3-ext-maxerrorretry                retries after a failed try, 0 to 100 (SDK default: 2, so 3 tries)
  s3-ext-requestchecksumcalculation   when_supported or when_required
                                      (when_supported on AWS, when_required elsewhere)
  s3-ext-responsechecksumvalidation   when_supported or when_required (the same)
  s3-ext-serviceurl                   http(s)://host[:port]; overrides s3-server-name
  s3-ext-usehttp                      true: plain HTTP, false: HTTPS (use-ssl)
  s3-ext-authenticationregion         overrides s3-authentication-region
  s3-ext-timeout                      .NET TimeSpan (00:05:00): bound on each request
                                      that moves no data; the shorter of it and short-timeout
  s3-ext-readwritetimeout             .NET TimeSpan: the shorter of it and read-write-timeout
  s3-ext-connecttimeout               bound on connecting to the server (30s)
  s3-ext-proxyhost, s3-ext-proxyport  an HTTP proxy for every request (HTTPS_PROXY)
  s3-ext-maxconnectionsperserver      cap on connections to the server; also
                                      s3-ext-connectionlimit (2048)
  s3-ext-...                          every other AWS SDK setting Duplicati writes
                                      (s3-ext-signatureversion, s3-ext-logresponse,
                                      s3-ext-buffersize, ...): accepted, no effect; -v names them
  short-timeout                       bound on calls that move no data (30s)
  list-timeout                        bound on each listing page (10m)
  read-write-timeout                  idle timeout on object bodies (30s)
  s3-version-at                       read the bucket as it stood then, e.g. 2026-11-25T12:00:00Z;
                                      read-only, versioned buckets only (the latest)
  s3-use-rrs                          old Duplicati option: storage class REDUCED_REDUNDANCY
  s3-european-buckets                 old Duplicati option: region eu-west-1

  Timeouts are seconds or forms like 30s, 10m, 1h30m, 2D. Credentials come
  from aws-access-key-id, else the URL's user info, else auth-username (the
  same order for the secret); with none of them, from the AWS default chain
  (environment, shared config files with profile=, SSO, roles), which for a
  server outside AWS never asks the instance metadata service. The secret
  and the session token are never printed: messages, -v logs and --json
  output leave them out.

  Examples:
    s3://my-backups/laptop?s3-location-constraint=eu-west-1&aws-access-key-id=AKIA...&aws-secret-access-key=...
    s3://backups/pc?s3-server-name=s3.eu-central-1.wasabisys.com&aws-access-key-id=...&aws-secret-access-key=...
    s3://backups?s3-server-name=http://127.0.0.1:9000&aws-access-key-id=minio&aws-secret-access-key=...
`

const exitHelp = `EXIT CODES
  0  success
  1  any other error: network, server, throttling, corrupt data, ...
  2  usage: unknown command or flag, missing argument, no URL or a bad URL
  3  not found: the bucket or the object does not exist
  4  archived: the object must be restored first (s3dest restore, s3dest wait)
  5  access denied: credentials refused, or a permission missing

  When several objects fail (restore, rm), each failure is printed and the
  exit code is the first one's.

  With --json, an error is printed on stderr as
    {"error": "...", "code": "...", "s3_code": "...", "hint": "...", "exit": N}
  where code is one of usage, bucket_not_found, object_not_found, archived,
  access_denied, bucket_name_taken, wrong_region, corrupt, invalid,
  not_supported or error,
  and s3_code is the server's error code when it gave one.
`

const terminalHelp = `TERMINALS
  put, get, wait and cleanup show their progress on one line of stderr when
  stderr is a terminal: put and get a bar, the bytes moved, the rate and the
  time left; wait how many objects are readable and when it checks next;
  cleanup how many uploads it has aborted. stderr rather than stdout,
  because get ... - writes the data itself to stdout (and shows nothing when
  that is the terminal too). Nothing is shown with --json, nor when stderr
  is a file, a pipe or /dev/null.

  test asks before creating a missing bucket only when stdin is a terminal
  (not /dev/null, a pipe or a file) and --json is not given; scripts pass
  --create.
`

func longHelp() string {
	return `s3dest uses an Amazon S3 bucket, or a bucket on an S3-compatible server, as a
backup destination, from the same URLs Duplicati stores.

usage: s3dest COMMAND [flags] [URL] [arguments]

COMMANDS
` + commandList() + `
  Flags may come anywhere after the command; "--" ends them. Every command
  takes --json (results as JSON on stdout, errors as JSON on stderr) and -v
  (log what the library decides by itself on stderr). 's3dest help COMMAND'
  shows a command's flags.

` + urlHelp + "\n" + exitHelp + "\n" + terminalHelp
}
