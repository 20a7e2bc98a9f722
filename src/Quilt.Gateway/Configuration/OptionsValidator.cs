using Quilt.Gateway.Identity;
using Quilt.Gateway.Policy;
using Quilt.Storage;

namespace Quilt.Gateway.Configuration;

/// <summary>Checks options before the service starts, collecting every problem with what to do about it.</summary>
public static class OptionsValidator
{
    private const long MaxObjectBytes = MultipartPlan.MaxObjectSize;
    private const long MinPartBytes = MultipartPlan.MinPartSize;
    private const long MaxPartBytes = MultipartPlan.MaxPartSize;
    // SigV4 presigned URLs live at most seven days.
    private const int MaxUrlTtlSeconds = 7 * 24 * 3600;

    /// <summary>Throws <see cref="GatewayConfigurationException"/> listing every problem.</summary>
    public static void Validate(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        ValidateListen(options, problems);
        ValidateJwt(options.Jwt, problems, SidecarOptionsValidator.AllowsUnboundTokens(options));
        SidecarOptionsValidator.Validate(options, problems);
        ValidateS3(options.S3, problems);
        ValidateRoles(options, problems);
        ValidateLimits(options, problems);
        ValidateAuditStore(options.Audit, problems);
        OAuth.OAuthValidation.Validate(options, problems);
        if (problems.Count > 0)
            throw new GatewayConfigurationException(problems);
    }

    /// <summary>Only what the audit command needs: where the audit trail is.</summary>
    public static void ValidateAuditOnly(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        ValidateAuditStore(options.Audit, problems);
        if (problems.Count > 0)
            throw new GatewayConfigurationException(problems);
    }

    private static void ValidateListen(GatewayOptions options, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(options.Listen))
        {
            problems.Add("listen is empty: give the address to serve on, e.g. \"http://127.0.0.1:8080\".");
            return;
        }
        foreach (var url in options.Listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                problems.Add($"listen '{url}' is not an http:// or https:// address such as http://127.0.0.1:8080.");
        }
        if (options.PublicUrl is not null && !(Uri.TryCreate(options.PublicUrl, UriKind.Absolute, out var publicUrl)
            && (publicUrl.Scheme == Uri.UriSchemeHttp || publicUrl.Scheme == Uri.UriSchemeHttps) && publicUrl.Query.Length == 0 && publicUrl.Fragment.Length == 0))
            problems.Add($"publicUrl '{options.PublicUrl}' is not an http(s) URL without query, such as https://quilt-gateway.example.com.");
        if (options.MaxRequestBytes < 1024)
            problems.Add($"maxRequestBytes {options.MaxRequestBytes} is too small: give at least 1024.");
    }

    private static void ValidateJwt(JwtOptions jwt, List<string> problems, bool unboundTokensAllowed)
    {
        if ((jwt.Issuers.Count == 0 && !unboundTokensAllowed) || jwt.Issuers.Any(string.IsNullOrWhiteSpace))
            problems.Add("jwt.issuers is empty: list the token issuers (\"iss\") to accept, e.g. [\"https://quilt.example.com\"].");
        if ((jwt.Audiences.Count == 0 && !unboundTokensAllowed) || jwt.Audiences.Any(string.IsNullOrWhiteSpace))
            problems.Add("jwt.audiences is empty: list the token audiences (\"aud\") to accept, e.g. [\"quilt-gateway\"].");
        var sources = new[] { jwt.Hs256Secret, jwt.Hs256SecretFile, jwt.JwksFile, jwt.JwksUrl }.Count(s => !string.IsNullOrEmpty(s));
        if (sources == 0)
            problems.Add("No token key is configured: set jwt.hs256Secret (or jwt.hs256SecretFile, or env QUILT_GATEWAY_JWT__HS256SECRET) and/or jwt.jwksFile / jwt.jwksUrl.");
        if (!string.IsNullOrEmpty(jwt.Hs256Secret) && !string.IsNullOrEmpty(jwt.Hs256SecretFile))
            problems.Add("Both jwt.hs256Secret and jwt.hs256SecretFile are set: keep one.");
        if (!string.IsNullOrEmpty(jwt.JwksFile) && !string.IsNullOrEmpty(jwt.JwksUrl))
            problems.Add("Both jwt.jwksFile and jwt.jwksUrl are set: keep one.");
        try
        {
            var secret = SigningKeys.ReadHs256Secret(jwt);
            if (secret is not null && secret.Length < 32)
                problems.Add($"The HS256 secret is {secret.Length} bytes long: use at least 32 random bytes.");
        }
        catch (GatewayConfigurationException ex)
        {
            problems.AddRange(ex.Problems);
        }
        if (!string.IsNullOrEmpty(jwt.JwksFile))
        {
            try
            {
                SigningKeys.ReadJwksFile(jwt.JwksFile);
            }
            catch (GatewayConfigurationException ex)
            {
                problems.AddRange(ex.Problems);
            }
        }
        if (!string.IsNullOrEmpty(jwt.JwksUrl) && !(Uri.TryCreate(jwt.JwksUrl, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp)))
            problems.Add($"jwt.jwksUrl '{jwt.JwksUrl}' is not an http(s) URL.");
        if (jwt.JwksRefreshMinutes < 1)
            problems.Add("jwt.jwksRefreshMinutes must be at least 1.");
        if (jwt.ClockSkewSeconds is < 0 or > 600)
            problems.Add($"jwt.clockSkewSeconds {jwt.ClockSkewSeconds} is out of range: use 0 to 600.");
        foreach (var (name, value) in new[] { ("subjectClaim", jwt.SubjectClaim), ("nameClaim", jwt.NameClaim), ("emailClaim", jwt.EmailClaim), ("emailVerifiedClaim", jwt.EmailVerifiedClaim), ("rolesClaim", jwt.RolesClaim), ("roleClaim", jwt.RoleClaim), ("adminClaim", jwt.AdminClaim) })
        {
            if (string.IsNullOrWhiteSpace(value))
                problems.Add($"jwt.{name} is empty: name the claim to read.");
        }
    }

    private static void ValidateS3(S3Options s3, List<string> problems)
    {
        if (s3.Endpoint is not null && !(Uri.TryCreate(s3.Endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
            problems.Add($"s3.endpoint '{s3.Endpoint}' is not an http(s) URL such as http://127.0.0.1:7480.");
        if (string.IsNullOrEmpty(s3.AccessKeyId) != string.IsNullOrEmpty(s3.SecretAccessKey))
            problems.Add("Give both s3.accessKeyId and s3.secretAccessKey, or neither (then the AWS SDK's credential chain is used).");
        if (s3.StsEndpoint is not null && !Uri.TryCreate(s3.StsEndpoint, UriKind.Absolute, out _))
            problems.Add($"s3.stsEndpoint '{s3.StsEndpoint}' is not a URL.");
    }

    private static void ValidateRoles(GatewayOptions options, List<string> problems)
    {
        if (options.Roles.Count == 0)
            problems.Add("No roles are configured: add \"roles\": { \"<role>\": { \"grants\": [ { \"bucket\": ..., \"prefix\": ..., \"read\": true } ] } } (or a rolesFile).");
        foreach (var (name, role) in options.Roles)
        {
            if (string.IsNullOrWhiteSpace(name))
                problems.Add("A role has an empty name.");
            if (role.Grants.Count == 0)
                problems.Add($"Role '{name}' has no grants: give it at least one bucket/prefix with read and/or write.");
            for (var i = 0; i < role.Grants.Count; i++)
            {
                var g = role.Grants[i];
                var where = $"roles.{name}.grants[{i}]";
                if (!ObjectKeys.IsValidBucketName(g.Bucket))
                    problems.Add($"{where}.bucket '{g.Bucket}' is not a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-').");
                if (g.Prefix is null || ObjectKeys.ValidatePrefix(g.Prefix) is not null)
                    problems.Add($"{where}.prefix '{g.Prefix}' is not a valid key prefix: no leading '/', no '.' or '..' segments; use \"\" for the whole bucket.");
                if (!g.Read && !g.Write)
                    problems.Add($"{where} grants neither read nor write: set \"read\": true and/or \"write\": true.");
                if (g.MaxUploadBytes is < 1 or > MaxObjectBytes)
                    problems.Add($"{where}.maxUploadBytes {g.MaxUploadBytes} is out of range: use 1 to {MaxObjectBytes} (5 TiB, S3's largest object).");
            }
            if (role.AssumeRoleArn is not null && !role.AssumeRoleArn.StartsWith("arn:", StringComparison.Ordinal))
                problems.Add($"roles.{name}.assumeRoleArn '{role.AssumeRoleArn}' is not an ARN (arn:aws:iam::123456789012:role/name).");
            if (role.HasOwnS3Keys())
                ValidateRoleKeys(name, role, problems);
        }
        if (options.DefaultRole is not null && !options.Roles.ContainsKey(options.DefaultRole))
            problems.Add($"defaultRole '{options.DefaultRole}' is not one of the configured roles ({string.Join(", ", options.Roles.Keys)}).");
        foreach (var (user, entry) in options.Users)
        {
            foreach (var role in entry.Roles.Where(r => !options.Roles.ContainsKey(r)))
                problems.Add($"users.{user} names role '{role}', which is not configured ({string.Join(", ", options.Roles.Keys)}).");
        }
        foreach (var bucket in options.Buckets.Keys.Where(b => !ObjectKeys.IsValidBucketName(b)))
            problems.Add($"buckets.{bucket}: '{bucket}' is not a valid S3 bucket name.");
    }

    // Never names the secret itself: these lines are printed by `check` and logged at start.
    private static void ValidateRoleKeys(string name, RoleOptions role, List<string> problems)
    {
        var where = $"roles.{name}";
        if (string.IsNullOrEmpty(role.S3AccessKeyId))
            problems.Add($"{where} has an S3 secret but no s3AccessKeyId: give the access key id of the role's S3 user too.");
        var secrets = new[] { role.S3SecretAccessKey, role.S3SecretAccessKeyFile }.Count(s => !string.IsNullOrEmpty(s));
        if (secrets == 0)
            problems.Add($"{where}.s3AccessKeyId is set without a secret: set {where}.s3SecretAccessKeyFile, or the environment variable {ConfigurationLoader.EnvironmentPrefix}ROLES__{name}__S3SECRETACCESSKEY.");
        if (secrets == 2)
            problems.Add($"Both {where}.s3SecretAccessKey and {where}.s3SecretAccessKeyFile are set: keep one.");
        if (role.AssumeRoleArn is not null)
            problems.Add($"{where} has both assumeRoleArn and its own S3 keys: use one way to give the role its S3 rights.");
        if (secrets == 1)
        {
            try
            {
                Storage.S3Access.ReadRoleSecret(name, role);
            }
            catch (GatewayConfigurationException ex)
            {
                problems.AddRange(ex.Problems);
            }
        }
    }

    private static void ValidateLimits(GatewayOptions options, List<string> problems)
    {
        if (options.Uploads.UrlTtlSeconds is < 1 or > MaxUrlTtlSeconds)
            problems.Add($"uploads.urlTtlSeconds {options.Uploads.UrlTtlSeconds} is out of range: use 1 to {MaxUrlTtlSeconds} (7 days, SigV4's limit).");
        if (options.Uploads.DefaultPartSize is < MinPartBytes or > MaxPartBytes)
            problems.Add($"uploads.defaultPartSize {options.Uploads.DefaultPartSize} is out of range: use {MinPartBytes} (5 MiB) to {MaxPartBytes} (5 GiB).");
        if (options.Uploads.SweepIntervalSeconds < 1)
            problems.Add("uploads.sweepIntervalSeconds must be at least 1.");
        if (options.Browsing.MaxTtlSeconds is < 1 or > 7 * 24 * 3600)
            problems.Add($"browsing.maxTtlSeconds {options.Browsing.MaxTtlSeconds} is out of range: use 1 to 604800.");
        if (options.Browsing.MaxLinkTtlSeconds is < 1 or > MaxUrlTtlSeconds)
            problems.Add($"browsing.maxLinkTtlSeconds {options.Browsing.MaxLinkTtlSeconds} is out of range: use 1 to {MaxUrlTtlSeconds}.");
        var graphQL = options.GraphQL;
        foreach (var (name, value, min, max) in new[]
        {
            ("maxQueryBytes", graphQL.MaxQueryBytes, 1024, 16 * 1024 * 1024),
            ("maxFields", graphQL.MaxFields, 10, 1_000_000),
            ("maxFragments", graphQL.MaxFragments, 0, 10_000),
            ("maxDepth", graphQL.MaxDepth, 2, 100),
            ("maxComplexity", graphQL.MaxComplexity, 10, int.MaxValue),
            ("timeoutSeconds", graphQL.TimeoutSeconds, 1, 24 * 3600),
        })
        {
            if (value < min || value > max)
                problems.Add($"graphql.{name} {value} is out of range: use {min} to {max}.");
        }
        if (options.Audit.RefusalsPerMinute < 1)
            problems.Add($"audit.refusalsPerMinute {options.Audit.RefusalsPerMinute} is out of range: use at least 1.");
        if (options.CursorSecret is { } cursorSecret && System.Text.Encoding.UTF8.GetByteCount(cursorSecret) < 32)
            problems.Add("cursorSecret is shorter than 32 bytes: use at least 32 random bytes, or leave it out and the gateway keeps a generated one in its database.");
    }

    private static void ValidateAuditStore(AuditOptions audit, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(audit.Postgres) && string.IsNullOrWhiteSpace(audit.SqlitePath))
            problems.Add("audit.sqlitePath is empty and audit.postgres is not set: give a database file path or a PostgreSQL connection string.");
        if (!string.IsNullOrWhiteSpace(audit.Postgres))
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(audit.Postgres);
            }
            catch (ArgumentException ex)
            {
                problems.Add($"audit.postgres is not a valid PostgreSQL connection string: {ex.Message}");
            }
        }
    }
}
