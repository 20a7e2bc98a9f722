using Quilt.Gateway.Configuration;

namespace Quilt.Gateway.OAuth;

/// <summary>
/// The gateway's built-in OAuth 2.1 authorization server, for MCP clients (Claude.ai, ChatGPT, the TypeScript SDK) that
/// find it through an MCP server's protected resource metadata: dynamic client registration, authorization code with
/// PKCE (S256) and a consent page where the user signs in with their Quilt token, access tokens for the MCP server
/// (audience = its resource), and token exchange (RFC 8693) for a registry token.
/// </summary>
public sealed class OAuthOptions
{
    public bool Enabled { get; set; }

    /// <summary>The issuer identifier (its tokens' "iss"); null: <see cref="GatewayOptions.PublicUrl"/>, else the first listening address.</summary>
    public string? Issuer { get; set; }

    /// <summary>The resource identifiers (MCP servers' URLs) tokens may be minted for; empty: any https URL or loopback http URL.</summary>
    public List<string> Resources { get; set; } = [];

    /// <summary>Lifetime of an access token.</summary>
    public int AccessTokenSeconds { get; set; } = 900;

    /// <summary>Lifetime of an authorization code (single use).</summary>
    public int CodeSeconds { get; set; } = 60;

    /// <summary>Longest lifetime of a registry token from token exchange (never past the access token it was exchanged for).</summary>
    public int RegistryTokenSeconds { get; set; } = 900;

    /// <summary>
    /// Confidential clients allowed to exchange a user's access token for a registry token (the MCP servers in registry
    /// mode), by client id. Put secrets in the environment: QUILT_GATEWAY_OAUTH__EXCHANGECLIENTS__{id}__SECRET.
    /// </summary>
    public Dictionary<string, ExchangeClientOptions> ExchangeClients { get; set; } = new(StringComparer.Ordinal);
}

public sealed class ExchangeClientOptions
{
    public string? Secret { get; set; }
}

/// <summary>Start-up checks of <see cref="OAuthOptions"/>.</summary>
public static class OAuthValidation
{
    public static void Validate(GatewayOptions options, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(problems);
        var oauth = options.OAuth;
        if (!oauth.Enabled)
            return;
        if (oauth.Issuer is not null && !OAuthUrls.IsSafeUrl(oauth.Issuer, allowPath: true))
            problems.Add($"oauth.issuer '{oauth.Issuer}' is not an https URL (http only on loopback) without query or fragment.");
        foreach (var resource in oauth.Resources)
        {
            if (!OAuthUrls.IsSafeUrl(resource, allowPath: true))
                problems.Add($"oauth.resources: '{resource}' is not an https URL (http only on loopback), such as https://mcp.example.com/mcp.");
        }
        if (oauth.AccessTokenSeconds is < 60 or > 86_400)
            problems.Add("oauth.accessTokenSeconds must be between 60 and 86400.");
        if (oauth.CodeSeconds is < 10 or > 600)
            problems.Add("oauth.codeSeconds must be between 10 and 600 (codes are short-lived).");
        if (oauth.RegistryTokenSeconds is < 60 or > 86_400)
            problems.Add("oauth.registryTokenSeconds must be between 60 and 86400.");
        foreach (var (id, client) in oauth.ExchangeClients)
        {
            if (client.Secret is not { Length: >= 32 })
                problems.Add($"oauth.exchangeClients.{id}.secret must be at least 32 characters: set QUILT_GATEWAY_OAUTH__EXCHANGECLIENTS__{id}__SECRET.");
        }
        if (oauth.ExchangeClients.Count > 0 && string.IsNullOrEmpty(options.Jwt.Hs256Secret) && string.IsNullOrEmpty(options.Jwt.Hs256SecretFile))
            problems.Add("oauth.exchangeClients needs jwt.hs256Secret: token exchange mints registry tokens signed as the Quilt registry signs its own.");
    }
}

/// <summary>The URL rules of the authorization server.</summary>
public static class OAuthUrls
{
    /// <summary>https, or http on a loopback host; absolute, without fragment (and without query unless <paramref name="allowQuery"/>).</summary>
    public static bool IsSafeUrl(string text, bool allowPath, bool allowQuery = false)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Fragment.Length > 0 || (!allowQuery && uri.Query.Length > 0) || uri.UserInfo.Length > 0)
            return false;
        if (!allowPath && uri.AbsolutePath != "/")
            return false;
        return uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri));
    }

    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback && (uri.Host == "localhost" || System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out _));
}
