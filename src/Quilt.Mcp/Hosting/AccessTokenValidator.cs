using System.Security.Claims;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quilt.Mcp.Configuration;

namespace Quilt.Mcp.Hosting;

/// <summary>The outcome of checking an access token: the caller, or why not (never the token itself).</summary>
internal sealed record AccessTokenResult(ClaimsPrincipal? User, string? Problem);

/// <summary>
/// Checks OAuth access tokens: signed (RS256/ES256 with a key of the issuer's JWKS), from the configured issuer,
/// not expired, and minted for this resource (audience). The JWKS and the issuer's metadata are fetched when first
/// needed, and again when a token names a key not seen yet (at most once a minute) or after an hour.
/// </summary>
internal sealed class AccessTokenValidator(AuthSettings auth, HttpClient http) : IDisposable
{
    private const int MaxTokenLength = 16 * 1024;
    private static readonly TimeSpan KeysLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan MinRefetch = TimeSpan.FromMinutes(1);
    private static readonly string[] Algorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private IReadOnlyList<SecurityKey> _keys = [];
    private DateTimeOffset _fetched = DateTimeOffset.MinValue;
    private JsonElement? _metadata;

    /// <summary>The issuer as tokens carry it; a trailing slash is not significant here.</summary>
    private string[] Issuers => Variants(auth.Issuer.OriginalString);

    internal static string[] Variants(string url) => [url.TrimEnd('/'), url.TrimEnd('/') + "/"];

    public async Task<AccessTokenResult> ValidateAsync(string token, Uri resource, CancellationToken cancellationToken)
    {
        if (token.Length > MaxTokenLength)
            return new(null, "the access token is too long");
        JsonWebToken parsed;
        try
        {
            parsed = _handler.ReadJsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException)
        {
            return new(null, "the access token is not a JWT");
        }
        if (!Algorithms.Contains(parsed.Alg, StringComparer.Ordinal))
            return new(null, $"tokens signed with \"{Bound(parsed.Alg)}\" are not accepted (accepted: {string.Join(", ", Algorithms)})");
        try
        {
            if (_keys.Count == 0 || DateTimeOffset.UtcNow - _fetched > KeysLifetime || (parsed.Kid is { Length: > 0 } kid && !_keys.Any(k => k.KeyId == kid)))
                await RefreshKeysAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException or ArgumentException or InvalidOperationException)
        {
            return new(null, $"the authorization server's keys could not be read ({e.Message}); try again later");
        }
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuers = Issuers,
            ValidAudiences = Variants(resource.OriginalString),
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ValidAlgorithms = Algorithms,
            ClockSkew = TimeSpan.FromSeconds(30),
            IssuerSigningKeys = _keys,
        }).ConfigureAwait(false);
        if (!result.IsValid)
            return new(null, Describe(result.Exception));
        var identity = new ClaimsIdentity(result.ClaimsIdentity.Claims, "Bearer", "sub", null);
        return new(new ClaimsPrincipal(identity), null);
    }

    /// <summary>The scopes a validated token grants: "scope" (space-separated, RFC 9068) or "scp" (a list or a string).</summary>
    public static IReadOnlySet<string> ScopesOf(ClaimsPrincipal? user)
    {
        var scopes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in user?.Claims ?? [])
        {
            if (claim.Type is "scope" or "scp")
                scopes.UnionWith(claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        return scopes;
    }

    /// <summary>The issuer's RFC 8414 metadata (or its OpenID configuration), fetched once.</summary>
    public async Task<JsonElement> MetadataAsync(CancellationToken cancellationToken)
    {
        if (_metadata is { } known)
            return known;
        var issuer = auth.Issuer.OriginalString.TrimEnd('/');
        var origin = auth.Issuer.GetLeftPart(UriPartial.Authority);
        var path = auth.Issuer.AbsolutePath.TrimEnd('/');
        // RFC 8414 puts the well-known part between the host and the issuer's path; OpenID appends it.
        Uri[] candidates = [new(origin + "/.well-known/oauth-authorization-server" + path), new(issuer + "/.well-known/openid-configuration")];
        foreach (var candidate in candidates)
        {
            using var response = await http.GetAsync(candidate, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                continue;
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement.Clone();
            if (root.TryGetProperty("issuer", out var named) && !Issuers.Contains(named.GetString(), StringComparer.Ordinal))
                throw new InvalidOperationException($"the metadata at {candidate} names issuer '{named.GetString()}', not '{issuer}'");
            _metadata = root;
            return root;
        }
        throw new InvalidOperationException($"no authorization server metadata at {candidates[0]} or {candidates[1]}");
    }

    private async Task RefreshKeysAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_keys.Count > 0 && DateTimeOffset.UtcNow - _fetched < MinRefetch)
                return;
            var jwks = auth.JwksUri;
            if (jwks is null)
            {
                var metadata = await MetadataAsync(cancellationToken).ConfigureAwait(false);
                jwks = metadata.TryGetProperty("jwks_uri", out var uri) && uri.GetString() is { } text
                    ? new Uri(text)
                    : throw new InvalidOperationException("the authorization server's metadata has no jwks_uri; give --auth-jwks");
            }
            var json = await http.GetStringAsync(jwks, cancellationToken).ConfigureAwait(false);
            var set = new JsonWebKeySet(json) { SkipUnresolvedJsonWebKeys = true };
            // Only public keys of the kinds the accepted algorithms use: never a symmetric key from a key set.
            _keys = set.Keys.Where(k => k.Kty is JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve && string.IsNullOrEmpty(k.D))
                .Cast<SecurityKey>().ToArray();
            _fetched = DateTimeOffset.UtcNow;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private static string Describe(Exception? e) => e switch
    {
        SecurityTokenExpiredException => "the access token has expired: get a new one",
        SecurityTokenNotYetValidException => "the access token is not valid yet",
        SecurityTokenNoExpirationException => "the access token has no expiry (exp)",
        SecurityTokenInvalidAudienceException => "the access token was minted for another audience (aud), not for this server",
        SecurityTokenInvalidIssuerException => "the access token is from an issuer this server does not accept (iss)",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the access token's signature does not verify with the issuer's keys",
        SecurityTokenInvalidAlgorithmException => "the access token's algorithm is not accepted",
        _ => "the access token could not be verified",
    };

    public void Dispose() => _refresh.Dispose();

    private static string Bound(string? value) => value is null ? "" : value.Length <= 32 ? value : value[..32] + "…";
}
