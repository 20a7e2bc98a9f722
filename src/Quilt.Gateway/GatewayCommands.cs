using System.Globalization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Identity;
using Quilt.Gateway.Policy;
using Quilt.Gateway.Services;
using Quilt.Gateway.Storage;

namespace Quilt.Gateway;

/// <summary>The deployment commands: `check --probe`, `token` (a development token) and `health` (for container health checks).</summary>
internal static class GatewayCommands
{
    private static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromDays(7);

    /// <summary>
    /// Reaches everything the configuration names (S3 with each role's identity, the database, the JWKS URL, the upstream
    /// registry) and prints one line per probe; 0 when all answered, 1 otherwise.
    /// </summary>
    public static async Task<int> ProbeAsync(GatewayOptions options, TextWriter output)
    {
        var results = new List<ProbeResult>();
        using (var s3 = new S3Access(options, new RolePolicy(options)))
        {
            var s3Probes = GatewayProbes.S3Targets(options, everyRole: true)
                .Select(t => GatewayProbes.S3Async(s3, t.Role, t.Bucket, GatewayProbes.DefaultTimeout, CancellationToken.None));
            results.AddRange(await Task.WhenAll(s3Probes));
        }
        results.Add(await ProbeDatabaseAsync(options));
        using var http = new HttpClient { Timeout = GatewayProbes.DefaultTimeout };
        if (!string.IsNullOrEmpty(options.Jwt.JwksUrl))
            results.Add(await GatewayProbes.JwksAsync(http, options.Jwt.JwksUrl, CancellationToken.None));
        if (options.Upstream.IsSet)
            results.Add(await GatewayProbes.UpstreamAsync(http, options.Upstream.Url!, CancellationToken.None));
        foreach (var r in results)
            await output.WriteLineAsync($"{(r.Ok ? "ok  " : "FAIL")} {r.Name}: {r.Detail}");
        var failed = results.Count(r => !r.Ok);
        await output.WriteLineAsync(failed == 0 ? $"All {results.Count} probes answered." : $"{failed} of {results.Count} probes failed.");
        return failed == 0 ? 0 : 1;
    }

    private static async Task<ProbeResult> ProbeDatabaseAsync(GatewayOptions options)
    {
        // A SQLite file not made yet is made by the service at its first start, as its own user: not here, as whoever runs check.
        if (string.IsNullOrWhiteSpace(options.Audit.Postgres) && !File.Exists(options.Audit.SqlitePath))
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(options.Audit.SqlitePath)) ?? ".";
            return Directory.Exists(directory)
                ? new ProbeResult($"database sqlite {options.Audit.SqlitePath}", true, "not created yet; the gateway creates it at its first start")
                : new ProbeResult($"database sqlite {options.Audit.SqlitePath}", false, $"the folder {directory} does not exist");
        }
        await using var store = GatewayHost.CreateStore(options);
        return await GatewayProbes.DatabaseAsync(store, options, GatewayProbes.DefaultTimeout, CancellationToken.None);
    }

    /// <summary>
    /// Mints an HS256 token with the configured secret, issuer, audience and claim names, for development and tests.
    /// Prints only the token on standard output (the warning goes to standard error); 2 when it cannot.
    /// </summary>
    public static async Task<int> TokenAsync(GatewayOptions options, string? user, string? role, IReadOnlyList<string> roles, bool admin,
        string? expires, TextWriter output, TextWriter error)
    {
        var secret = SigningKeys.ReadHs256Secret(options.Jwt);
        if (secret is null)
        {
            await error.WriteLineAsync("This gateway verifies tokens with a JWKS only (jwt.jwksFile / jwt.jwksUrl): it has no secret to sign with. " +
                "Get a token from the identity provider, or set jwt.hs256Secret for a development setup.");
            return 2;
        }
        if (string.IsNullOrWhiteSpace(user))
        {
            await error.WriteLineAsync("token needs --user NAME (the token's subject).");
            return 2;
        }
        var lifetime = ParseLifetime(expires);
        if (lifetime is null)
        {
            await error.WriteLineAsync($"--expires '{expires}' is not a lifetime from 1s to 7d, such as 900s, 30m, 12h or 7d.");
            return 2;
        }
        var all = new List<string>();
        if (role is not null)
            all.Add(role);
        all.AddRange(roles.Where(r => !all.Contains(r, StringComparer.Ordinal)));
        var unknown = all.Where(r => !options.Roles.ContainsKey(r)).ToList();
        if (unknown.Count > 0)
        {
            await error.WriteLineAsync($"Role(s) {string.Join(", ", unknown)} not configured on this gateway; configured: {string.Join(", ", options.Roles.Keys)}.");
            return 2;
        }

        var jwt = options.Jwt;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal) { [jwt.SubjectClaim] = user, [jwt.NameClaim] = user };
        if (all.Count > 0)
        {
            claims[jwt.RoleClaim] = all[0];
            claims[jwt.RolesClaim] = all.ToArray();
        }
        if (admin)
            claims[jwt.AdminClaim] = true;
        var now = DateTime.UtcNow;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuers.FirstOrDefault(),
            Audience = jwt.Audiences.FirstOrDefault(),
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime.Value,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(secret), SecurityAlgorithms.HmacSha256),
        });
        await error.WriteLineAsync($"Warning: a development token for '{user}' signed with this gateway's own HS256 secret, valid until " +
            $"{(now + lifetime.Value).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}. For development and tests only: real users get their tokens from Quilt or the identity provider.");
        if (options.Upstream.RolesFromUpstream && all.Count > 0)
            await error.WriteLineAsync("Note: upstream.roles is \"upstream\": the gateway takes roles from the Quilt registry's me, not from this token.");
        await output.WriteLineAsync(token);
        return 0;
    }

    /// <summary>"900", "900s", "30m", "12h", "7d" → a lifetime of 1 s to 7 days; default one hour; null when not one.</summary>
    internal static TimeSpan? ParseLifetime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return TimeSpan.FromHours(1);
        text = text.Trim();
        var unit = char.IsDigit(text[^1]) ? 's' : char.ToLowerInvariant(text[^1]);
        var digits = char.IsDigit(text[^1]) ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > 7L * 24 * 3600)
            return null;
        TimeSpan? lifetime = unit switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
        return lifetime <= MaxTokenLifetime ? lifetime : null;
    }

    /// <summary>GET a /healthz URL (for HEALTHCHECK in images without curl); 0 on 200, 1 otherwise.</summary>
    public static async Task<int> HealthAsync(string url, TextWriter output, TextWriter error)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            await error.WriteLineAsync($"--url '{url}' is not an http(s) URL such as http://127.0.0.1:8080/healthz.");
            return 2;
        }
        using var http = new HttpClient { Timeout = GatewayProbes.DefaultTimeout };
        try
        {
            using var response = await http.GetAsync(uri);
            await output.WriteLineAsync($"{uri} answered HTTP {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"{uri} did not answer: {ex.Message}");
            return 1;
        }
    }

}
