using System.Net;

namespace Quilt.Mcp.Configuration;

/// <summary>
/// MCP authorization over HTTP: the server is an OAuth protected resource. Access tokens come from
/// <see cref="Issuer"/> (its keys from <see cref="JwksUri"/>, or found through the issuer's metadata) and must be minted
/// for <see cref="Resource"/>; read tools need <see cref="ReadScope"/>, the others <see cref="WriteScope"/>.
/// </summary>
public sealed record AuthSettings
{
    public const string ReadScope = "quilt.read";
    public const string WriteScope = "quilt.write";

    /// <summary>The authorization server's issuer identifier, as its tokens' "iss" carries it.</summary>
    public required Uri Issuer { get; init; }

    /// <summary>The issuer's JSON Web Key Set; null: the jwks_uri of the issuer's RFC 8414 (or OpenID) metadata.</summary>
    public Uri? JwksUri { get; init; }

    /// <summary>
    /// This server's resource identifier (RFC 8707, RFC 9728): the "aud" its tokens must carry. Null: the first
    /// endpoint the server listens on (loopback only; give it behind a proxy).
    /// </summary>
    public Uri? Resource { get; init; }

    /// <summary>
    /// Registry mode: the client this server authenticates as when it exchanges (RFC 8693) a caller's token for a
    /// registry token at the issuer's token endpoint. Its secret comes only from the environment.
    /// </summary>
    public string? ExchangeClientId { get; init; }

    public string? ExchangeClientSecret { get; init; }

    /// <summary>The audience asked for in a token exchange; null: the authorization server's default (its registry).</summary>
    public string? RegistryAudience { get; init; }
}

/// <summary>Reads <see cref="AuthSettings"/> from the serve options and the environment.</summary>
public static class AuthSettingsResolver
{
    public const string IssuerVariable = "QUILT_MCP_AUTH_ISSUER";
    public const string JwksVariable = "QUILT_MCP_AUTH_JWKS";
    public const string ResourceVariable = "QUILT_MCP_AUTH_RESOURCE";
    public const string ExchangeClientIdVariable = "QUILT_MCP_AUTH_EXCHANGE_CLIENT_ID";
    public const string ExchangeClientSecretVariable = "QUILT_MCP_AUTH_EXCHANGE_CLIENT_SECRET";
    public const string RegistryAudienceVariable = "QUILT_MCP_AUTH_REGISTRY_AUDIENCE";

    /// <summary><paramref name="http"/> with its authorization settings, or as it was when none are given.</summary>
    public static HttpSettings? Apply(HttpSettings? http, ServeInput input, Func<string, string?> env, bool registryMode, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(errors);
        var issuerText = input.AuthIssuer ?? env(IssuerVariable);
        var jwksText = input.AuthJwks ?? env(JwksVariable);
        var resourceText = input.Resource ?? env(ResourceVariable);
        if (issuerText is null)
        {
            if (jwksText is not null || resourceText is not null)
                errors.Add($"--auth-jwks and --resource need --auth-issuer ({IssuerVariable}): the authorization server whose tokens this server accepts.");
            return http;
        }
        if (http is null)
        {
            errors.Add("--auth-issuer applies to the HTTP transport only (over stdio the client is the user). Add --http, or remove it.");
            return null;
        }
        var issuer = Url(issuerText, "--auth-issuer", errors);
        var jwks = jwksText is null ? null : Url(jwksText, "--auth-jwks", errors);
        var resource = resourceText is null ? null : Url(resourceText, "--resource", errors);
        if (resource is null && resourceText is null && http.AllowRemote)
            errors.Add("--resource is needed with --allow-remote: the URL clients reach this server at (such as https://mcp.example.com/mcp), which its tokens' audience must name.");
        var clientId = env(ExchangeClientIdVariable);
        var clientSecret = env(ExchangeClientSecretVariable);
        if (registryMode && (clientId is null || clientSecret is null))
            errors.Add($"Registry mode with --auth-issuer exchanges each caller's token for a registry token (RFC 8693): set {ExchangeClientIdVariable} and {ExchangeClientSecretVariable} "
                + "to the exchange client the authorization server knows. A caller's token is never forwarded to the registry.");
        if (issuer is null)
            return http;
        return http with
        {
            Auth = new AuthSettings
            {
                Issuer = issuer,
                JwksUri = jwks,
                Resource = resource,
                ExchangeClientId = clientId,
                ExchangeClientSecret = clientSecret,
                RegistryAudience = env(RegistryAudienceVariable),
            },
        };
    }

    /// <summary>An https URL, or http on loopback (for tests and a server on the same machine).</summary>
    private static Uri? Url(string text, string source, List<string> errors)
    {
        if (Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && uri.Fragment.Length == 0 && uri.Query.Length == 0
            && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri.Host))))
            return uri;
        errors.Add($"{source} '{text}' is not an https URL (plain http only on loopback), without query or fragment.");
        return null;
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
