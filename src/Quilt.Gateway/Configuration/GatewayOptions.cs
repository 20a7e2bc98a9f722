namespace Quilt.Gateway.Configuration;

/// <summary>
/// Everything quilt-gateway is configured with: a JSON file (--config), then environment variables
/// (QUILT_GATEWAY_Section__Key), then the command line (--Section:Key=value), later ones winning.
/// <see cref="OptionsValidator"/> checks it at start and names every problem.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>Where Kestrel listens, e.g. http://127.0.0.1:8080 (several separated by ';').</summary>
    public string Listen { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// The gateway's own URL as clients reach it (https://quilt-gateway.example.com, behind a reverse proxy); multipart
    /// part URLs point there. Null: the scheme and host of each GraphQL request.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>A second JSON file holding the "roles" (and optionally "users") sections, read after the main file.</summary>
    public string? RolesFile { get; set; }

    public JwtOptions Jwt { get; set; } = new();

    public S3Options S3 { get; set; } = new();

    /// <summary>Role name → what it may do. Names match the tokens' role claims.</summary>
    public Dictionary<string, RoleOptions> Roles { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Optional per-user role grants, for tokens that carry no role claim: keyed by the token's subject, or by an e-mail
    /// the token marks as verified (<see cref="JwtOptions.EmailVerifiedClaim"/>).
    /// </summary>
    public Dictionary<string, UserOptions> Users { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The role of a user whose token and entry in <see cref="Users"/> grant none; null refuses such users.</summary>
    public string? DefaultRole { get; set; }

    /// <summary>Display settings of buckets (title, description, tags) for bucketConfigs; buckets need no entry here.</summary>
    public Dictionary<string, BucketOptions> Buckets { get; set; } = new(StringComparer.Ordinal);

    public UploadOptions Uploads { get; set; } = new();

    public BrowsingOptions Browsing { get; set; } = new();

    public AuditOptions Audit { get; set; } = new();

    /// <summary>The search index and how it is fed (docs/gateway.md, "Search").</summary>
    public SearchOptions Search { get; set; } = new();

    /// <summary>What one GraphQL request may cost: document size, fields, depth, complexity, running time.</summary>
    public GraphQLOptions GraphQL { get; set; } = new();

    /// <summary>
    /// The secret that seals listing cursors (at least 32 bytes). Null: one is generated at the first start and kept in
    /// the database, so every instance on the same database shares it.
    /// </summary>
    public string? CursorSecret { get; set; }

    /// <summary>The built-in OAuth authorization server (for remote MCP clients); off unless enabled.</summary>
    public OAuth.OAuthOptions OAuth { get; set; } = new();

    /// <summary>Largest GraphQL request body accepted, in bytes.</summary>
    public long MaxRequestBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Sidecar mode: the Quilt registry to forward Quilt's own operations to (null: stock mode).</summary>
    public UpstreamOptions Upstream { get; set; } = new();

    /// <summary>Log format (text or json) and level, for the command line.</summary>
    public LoggingOptions Logging { get; set; } = new();
}

public sealed class JwtOptions
{
    /// <summary>Accepted "iss" values; at least one (none only in sidecar mode with an HS256 secret: Quilt's tokens carry no iss).</summary>
    public List<string> Issuers { get; set; } = [];

    /// <summary>Accepted "aud" values; at least one (none only in sidecar mode with an HS256 secret: Quilt's tokens carry no aud).</summary>
    public List<string> Audiences { get; set; } = [];

    /// <summary>The HS256 shared secret (as the Quilt registry signs its tokens); at least 32 bytes.</summary>
    public string? Hs256Secret { get; set; }

    /// <summary>A file holding the HS256 secret (its whole content, trailing newline removed).</summary>
    public string? Hs256SecretFile { get; set; }

    /// <summary>A JSON Web Key Set file with the RS256/ES256 public keys.</summary>
    public string? JwksFile { get; set; }

    /// <summary>A JSON Web Key Set URL (an identity provider's jwks_uri), read at start and every <see cref="JwksRefreshMinutes"/>.</summary>
    public string? JwksUrl { get; set; }

    public int JwksRefreshMinutes { get; set; } = 60;

    /// <summary>Tolerance for clocks that differ, applied to exp and nbf.</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    public string SubjectClaim { get; set; } = "sub";
    public string NameClaim { get; set; } = "name";
    public string EmailClaim { get; set; } = "email";

    /// <summary>
    /// The boolean claim by which the identity provider says it verified the e-mail (OIDC's email_verified). A users.*
    /// entry keyed by an e-mail applies only when this claim is true.
    /// </summary>
    public string EmailVerifiedClaim { get; set; } = "email_verified";

    /// <summary>The claim listing every role granted (a JSON array, or names separated by spaces or commas).</summary>
    public string RolesClaim { get; set; } = "roles";

    /// <summary>The claim naming the user's default role (also granted).</summary>
    public string RoleClaim { get; set; } = "role";

    /// <summary>A boolean claim that makes the user an admin (reads the audit trail).</summary>
    public string AdminClaim { get; set; } = "admin";
}

public sealed class S3Options
{
    /// <summary>An S3-compatible endpoint (http://127.0.0.1:7480); null means AWS itself.</summary>
    public string? Endpoint { get; set; }

    public string? Region { get; set; }

    /// <summary>Path-style addressing (always on with an endpoint).</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>A named AWS profile; null with no keys means the AWS SDK's default chain (env, instance role, ...).</summary>
    public string? Profile { get; set; }

    /// <summary>Static keys; prefer the environment (AWS_ACCESS_KEY_ID, ...) or an instance role.</summary>
    public string? AccessKeyId { get; set; }
    public string? SecretAccessKey { get; set; }

    /// <summary>STS endpoint for roles with assumeRoleArn; null means AWS STS in <see cref="Region"/>.</summary>
    public string? StsEndpoint { get; set; }
}

public sealed class RoleOptions
{
    /// <summary>An IAM role the gateway assumes (STS) for this Quilt role's S3 calls; null uses the gateway's own credentials.</summary>
    public string? AssumeRoleArn { get; set; }

    /// <summary>
    /// Static S3 keys of this role's own S3 user (one user per role on Ceph or MinIO), used instead of the gateway's
    /// credentials for all its S3 work, so the S3 server itself refuses what the user may not touch. The secret comes
    /// from <see cref="S3SecretAccessKey"/> (set it through the environment) or <see cref="S3SecretAccessKeyFile"/>.
    /// </summary>
    public string? S3AccessKeyId { get; set; }

    /// <summary>The secret of <see cref="S3AccessKeyId"/>; put it in QUILT_GATEWAY_ROLES__{role}__S3SECRETACCESSKEY, not in the file.</summary>
    public string? S3SecretAccessKey { get; set; }

    /// <summary>A file holding the secret of <see cref="S3AccessKeyId"/> (its whole content, trailing newline removed).</summary>
    public string? S3SecretAccessKeyFile { get; set; }

    /// <summary>Whether this role has S3 keys of its own.</summary>
    public bool HasOwnS3Keys() => !string.IsNullOrEmpty(S3AccessKeyId) || !string.IsNullOrEmpty(S3SecretAccessKey) || !string.IsNullOrEmpty(S3SecretAccessKeyFile);

    public List<GrantOptions> Grants { get; set; } = [];
}

public sealed class GrantOptions
{
    public string Bucket { get; set; } = "";

    /// <summary>Key prefix; "" for the whole bucket. A non-empty prefix should end with '/'.</summary>
    public string Prefix { get; set; } = "";

    public bool Read { get; set; }
    public bool Write { get; set; }

    /// <summary>Largest object a write may create, in bytes (presigned POST content-length-range, multipart size).</summary>
    public long MaxUploadBytes { get; set; } = 5L * 1024 * 1024 * 1024;
}

public sealed class UserOptions
{
    public List<string> Roles { get; set; } = [];
    public bool Admin { get; set; }
}

public sealed class BucketOptions
{
    public string? Title { get; set; }
    public string? Description { get; set; }
    public string? IconUrl { get; set; }
    public string? OverviewUrl { get; set; }
    public List<string>? Tags { get; set; }
    public int RelevanceScore { get; set; }
}

public sealed class UploadOptions
{
    /// <summary>
    /// Whether the upload mutations (generateUploadUrl, multipartUpload*) are in the schema. false serves the schema a
    /// stock Quilt registry has (no way to upload), so clients can be tested against that behaviour.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Lifetime of a presigned POST and of multipart part URLs.</summary>
    public int UrlTtlSeconds { get; set; } = 900;

    /// <summary>Part size when the client gives none (raised so that no upload needs more than 10,000 parts).</summary>
    public long DefaultPartSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>How often unfinished multipart uploads past their expiry are aborted.</summary>
    public int SweepIntervalSeconds { get; set; } = 60;
}

public sealed class BrowsingOptions
{
    /// <summary>Longest lifetime a browsing session may be created or refreshed with.</summary>
    public int MaxTtlSeconds { get; set; } = 3600;

    /// <summary>Longest lifetime of a presigned GET handed out for an object in a session.</summary>
    public int MaxLinkTtlSeconds { get; set; } = 900;
}

public sealed class AuditOptions
{
    /// <summary>The embedded SQLite database (audit trail, browsing sessions, role choices, uploads in progress).</summary>
    public string SqlitePath { get; set; } = "quilt-gateway.db";

    /// <summary>
    /// true (default): each audit line reaches the disk before the URL it records is handed out. false: faster (about
    /// twice the generateUploadUrl rate here), but a power loss or OS crash may drop the last lines.
    /// </summary>
    public bool SqliteDurable { get; set; } = true;

    /// <summary>A PostgreSQL connection string; when set it is used instead of SQLite, so several instances share state.</summary>
    public string? Postgres { get; set; }

    /// <summary>
    /// Refused requests (no or bad token) recorded one by one per client address and minute; past that they are only
    /// counted, and one line per client and minute records how many there were.
    /// </summary>
    public int RefusalsPerMinute { get; set; } = 60;
}

public sealed class GraphQLOptions
{
    /// <summary>Largest query document, in UTF-8 bytes (variables are not counted: send large inputs as variables).</summary>
    public int MaxQueryBytes { get; set; } = 256 * 1024;

    /// <summary>Most fields a document may select once every fragment spread is expanded, over all its operations and fragments.</summary>
    public int MaxFields { get; set; } = 1000;

    /// <summary>Most fragment definitions in one document.</summary>
    public int MaxFragments { get; set; } = 100;

    /// <summary>Deepest nesting of fields.</summary>
    public int MaxDepth { get; set; } = 20;

    /// <summary>Largest estimated cost: each field counts 1, multiplied by the page size (first) of the lists it is in.</summary>
    public int MaxComplexity { get; set; } = 50_000;

    /// <summary>Longest a request may run; past that its work is cancelled and the caller gets a TIMEOUT error.</summary>
    public int TimeoutSeconds { get; set; } = 120;
}
