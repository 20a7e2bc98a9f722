using Microsoft.Extensions.Logging;

namespace Quilt.Gateway.Configuration;

/// <summary>
/// Sidecar mode: the gateway beside a real Quilt stack. Quilt's own GraphQL operations are forwarded to the upstream
/// registry with the caller's token; the gateway serves only its additions (upload URLs, multipart, listing, ...).
/// </summary>
public sealed class UpstreamOptions
{
    public const string RolesFromConfig = "config";
    public const string RolesFromUpstreamMe = "upstream";
    public const string SearchAtUpstream = "upstream";
    public const string SearchAtGateway = "gateway";

    /// <summary>The Quilt registry's GraphQL URL (https://registry.example.com/graphql); null: stock mode, the gateway serves everything.</summary>
    public string? Url { get; set; }

    /// <summary>
    /// Where a user's roles come from: "config" (the token's role claims and users.*) or "upstream" (the upstream's
    /// <c>me { role roles }</c>, cached per token for <see cref="RoleCacheSeconds"/>). Grants still come from roles.*.
    /// </summary>
    public string Roles { get; set; } = RolesFromConfig;

    /// <summary>Longest a forwarded request may wait for the upstream, headers and body together.</summary>
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>Largest upstream answer passed on; a longer one is cut off (502 when its length is known up front).</summary>
    public long MaxResponseBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long the upstream's answer to <c>me</c> is reused for the same token.</summary>
    public int RoleCacheSeconds { get; set; } = 30;

    /// <summary>
    /// Who answers Quilt's four search queries in sidecar mode: "upstream" (forwarded to the Quilt stack, whose
    /// Elasticsearch indexes everything) or "gateway" (the gateway's own index, inside the caller's grants, as in stock mode).
    /// </summary>
    public string Search { get; set; } = SearchAtUpstream;

    public bool IsSet => !string.IsNullOrWhiteSpace(Url);

    public bool SearchFromGatewayIndex => IsSet && string.Equals(Search, SearchAtGateway, StringComparison.OrdinalIgnoreCase);

    public bool RolesFromUpstream => IsSet && string.Equals(Roles, RolesFromUpstreamMe, StringComparison.OrdinalIgnoreCase);
}

/// <summary>How the gateway logs when run from the command line (tests pass their own providers).</summary>
public sealed class LoggingOptions
{
    public const string Text = "text";
    public const string Json = "json";

    /// <summary>"text" (one line per entry) or "json" (one JSON object per line, for log collectors).</summary>
    public string Format { get; set; } = Text;

    /// <summary>The lowest level written: Trace, Debug, Information (default), Warning, Error, Critical or None.</summary>
    public string Level { get; set; } = nameof(LogLevel.Information);
}

/// <summary>Checks the sidecar and logging settings; called by <see cref="OptionsValidator.Validate"/>.</summary>
internal static class SidecarOptionsValidator
{
    public static void Validate(GatewayOptions options, List<string> problems)
    {
        var upstream = options.Upstream;
        if (upstream.Url is not null && !(Uri.TryCreate(upstream.Url, UriKind.Absolute, out var url)
            && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) && url.UserInfo.Length == 0))
            problems.Add($"upstream.url '{upstream.Url}' is not an http(s) URL such as https://registry.example.com/graphql.");
        if (!string.Equals(upstream.Roles, UpstreamOptions.RolesFromConfig, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(upstream.Roles, UpstreamOptions.RolesFromUpstreamMe, StringComparison.OrdinalIgnoreCase))
            problems.Add($"upstream.roles '{upstream.Roles}' is not \"config\" or \"upstream\".");
        else if (string.Equals(upstream.Roles, UpstreamOptions.RolesFromUpstreamMe, StringComparison.OrdinalIgnoreCase) && !upstream.IsSet)
            problems.Add("upstream.roles is \"upstream\" but upstream.url is not set: give the Quilt registry's GraphQL URL.");
        if (!string.Equals(upstream.Search, UpstreamOptions.SearchAtUpstream, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(upstream.Search, UpstreamOptions.SearchAtGateway, StringComparison.OrdinalIgnoreCase))
            problems.Add($"upstream.search '{upstream.Search}' is not \"upstream\" (forward search to the Quilt stack) or \"gateway\" (answer it from the gateway's own index).");
        else if (upstream.SearchFromGatewayIndex && !options.Search.Enabled)
            problems.Add("upstream.search is \"gateway\" but search.enabled is false: enable the gateway's search, or leave search to the upstream (\"upstream\").");
        if (upstream.TimeoutSeconds is < 1 or > 3600)
            problems.Add($"upstream.timeoutSeconds {upstream.TimeoutSeconds} is out of range: use 1 to 3600.");
        if (upstream.MaxResponseBytes is < 1024 or > 1L << 32)
            problems.Add($"upstream.maxResponseBytes {upstream.MaxResponseBytes} is out of range: use 1024 to 4294967296.");
        if (upstream.RoleCacheSeconds is < 0 or > 3600)
            problems.Add($"upstream.roleCacheSeconds {upstream.RoleCacheSeconds} is out of range: use 0 to 3600.");
        if (!string.Equals(options.Logging.Format, LoggingOptions.Text, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(options.Logging.Format, LoggingOptions.Json, StringComparison.OrdinalIgnoreCase))
            problems.Add($"logging.format '{options.Logging.Format}' is not \"text\" or \"json\".");
        if (!Enum.TryParse<LogLevel>(options.Logging.Level, ignoreCase: true, out _))
            problems.Add($"logging.level '{options.Logging.Level}' is not one of Trace, Debug, Information, Warning, Error, Critical, None.");
    }

    /// <summary>
    /// Whether tokens without iss/aud are acceptable: only beside a Quilt stack whose registry signs such tokens with an
    /// HS256 secret it shares with this gateway alone (never with a JWKS, whose keys may sign tokens for other services).
    /// </summary>
    public static bool AllowsUnboundTokens(GatewayOptions options) =>
        options.Upstream.IsSet && string.IsNullOrEmpty(options.Jwt.JwksFile) && string.IsNullOrEmpty(options.Jwt.JwksUrl);
}
