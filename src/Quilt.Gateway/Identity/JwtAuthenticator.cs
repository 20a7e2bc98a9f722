using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quilt.Gateway.Configuration;

namespace Quilt.Gateway.Identity;

/// <summary>The outcome of checking a request's bearer token. <see cref="Reason"/> never contains the token.</summary>
public sealed record AuthenticationResult(GatewayUser? User, string? Reason, string? ClaimedSubject)
{
    public bool Succeeded => User is not null;

    /// <summary>The token is valid but grants no role here: a new token would not help (HTTP 403, not 401).</summary>
    public bool NoRole { get; init; }
}

/// <summary>
/// Verifies "Authorization: Bearer &lt;JWT&gt;": the algorithm (HS256 with the shared secret, RS256/ES256 with a JWKS
/// key named by "kid"; "none" and anything else refused), the signature, expiry, not-before, issuer and audience. Maps
/// the claims to a <see cref="GatewayUser"/>. Never logs a token.
/// </summary>
public sealed partial class JwtAuthenticator : IDisposable
{
    // Tokens larger than this are refused unread (a JWT with a few claims is well under 1 KiB).
    private const int MaxTokenLength = 16 * 1024;
    private static readonly TimeSpan MinJwksRefetch = TimeSpan.FromMinutes(1);

    private readonly GatewayOptions _options;
    private readonly JwtOptions _jwt;
    private readonly ILogger _logger;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly SymmetricSecurityKey? _hmacKey;
    private readonly HashSet<string> _allowedAlgorithms;
    private readonly HttpClient? _jwksClient;
    private readonly SemaphoreSlim _jwksRefresh = new(1, 1);
    private volatile IReadOnlyList<SecurityKey> _jwks = [];
    private DateTimeOffset _jwksFetchedAt = DateTimeOffset.MinValue;

    public JwtAuthenticator(GatewayOptions options, ILogger<JwtAuthenticator> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _jwt = options.Jwt;
        _logger = logger;
        var secret = SigningKeys.ReadHs256Secret(_jwt);
        _allowedAlgorithms = new HashSet<string>(StringComparer.Ordinal);
        if (secret is not null)
        {
            _hmacKey = new SymmetricSecurityKey(secret);
            _allowedAlgorithms.Add(SecurityAlgorithms.HmacSha256);
        }
        if (!string.IsNullOrEmpty(_jwt.JwksFile))
            _jwks = SigningKeys.ReadJwksFile(_jwt.JwksFile);
        if (!string.IsNullOrEmpty(_jwt.JwksUrl))
            _jwksClient = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        if (_jwks.Count > 0 || _jwksClient is not null)
        {
            _allowedAlgorithms.Add(SecurityAlgorithms.RsaSha256);
            _allowedAlgorithms.Add(SecurityAlgorithms.EcdsaSha256);
        }
    }

    /// <summary>Reads the JWKS URL (when configured); fails with a clear message when it cannot.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_jwksClient is null)
            return;
        try
        {
            await RefreshJwksAsync(force: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or GatewayConfigurationException)
        {
            throw new GatewayConfigurationException([$"jwt.jwksUrl '{_jwt.JwksUrl}' could not be read: {ex.Message}. Check the URL and that the identity provider is reachable."]);
        }
    }

    /// <summary>Re-reads the JWKS URL when it is older than the refresh interval (or at most once a minute when forced).</summary>
    public async Task RefreshJwksAsync(bool force, CancellationToken cancellationToken)
    {
        if (_jwksClient is null)
            return;
        var age = DateTimeOffset.UtcNow - _jwksFetchedAt;
        if (age < (force ? MinJwksRefetch : TimeSpan.FromMinutes(_jwt.JwksRefreshMinutes)))
            return;
        await _jwksRefresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (DateTimeOffset.UtcNow - _jwksFetchedAt < MinJwksRefetch)
                return;
            using var response = await _jwksClient.GetAsync(new Uri(_jwt.JwksUrl!), cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            _jwks = SigningKeys.ParseJwks(json, $"jwt.jwksUrl '{_jwt.JwksUrl}'");
            _jwksFetchedAt = DateTimeOffset.UtcNow;
            LogJwksRead(_logger, _jwks.Count);
        }
        finally
        {
            _jwksRefresh.Release();
        }
    }

    public async Task<AuthenticationResult> AuthenticateAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(authorizationHeader))
            return Fail("no Authorization header: send \"Authorization: Bearer <JWT>\"");
        const string Bearer = "Bearer ";
        if (!authorizationHeader.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
            return Fail("the Authorization header is not \"Bearer <JWT>\"");
        var token = authorizationHeader[Bearer.Length..].Trim();
        if (token.Length == 0 || token.Length > MaxTokenLength)
            return Fail("the bearer token is empty or too long");

        JsonWebToken parsed;
        try
        {
            parsed = _handler.ReadJsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return Fail("the bearer token is not a JWT");
        }
        // Subject as claimed, for the audit trail only: it is not trusted until the signature checks out.
        var claimed = parsed.TryGetPayloadValue<string>(_jwt.SubjectClaim, out var sub) ? Truncate(sub) : null;
        var alg = parsed.Alg;
        if (string.IsNullOrEmpty(alg) || string.Equals(alg, "none", StringComparison.OrdinalIgnoreCase))
            return Fail("unsigned tokens (alg \"none\") are refused", claimed);
        if (!_allowedAlgorithms.Contains(alg))
            return Fail($"algorithm \"{Truncate(alg)}\" is not accepted here (accepted: {string.Join(", ", _allowedAlgorithms.Order(StringComparer.Ordinal))})", claimed);
        if (alg != SecurityAlgorithms.HmacSha256 && !string.IsNullOrEmpty(parsed.Kid) && !_jwks.Any(k => k.KeyId == parsed.Kid))
        {
            await RefreshJwksAsync(force: true, cancellationToken).ConfigureAwait(false);
            if (!_jwks.Any(k => k.KeyId == parsed.Kid))
                return Fail($"the token is signed with an unknown key (kid \"{Truncate(parsed.Kid)}\")", claimed);
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuers = _jwt.Issuers,
            ValidAudiences = _jwt.Audiences,
            // Empty only in sidecar mode with an HS256 secret (checked at start): Quilt's registry tokens carry no iss/aud.
            ValidateIssuer = _jwt.Issuers.Count > 0,
            ValidateAudience = _jwt.Audiences.Count > 0,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ValidAlgorithms = _allowedAlgorithms,
            ClockSkew = TimeSpan.FromSeconds(_jwt.ClockSkewSeconds),
            TryAllIssuerSigningKeys = false,
            IssuerSigningKeyResolver = (_, _, kid, _) => KeysFor(alg, kid),
        };
        var result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
            return Fail(Describe(result.Exception), claimed);

        var user = MapUser((JsonWebToken)result.SecurityToken);
        if (user.Subject.Length == 0)
            return Fail($"the token has no \"{_jwt.SubjectClaim}\" claim", claimed);
        // With roles from the upstream's `me`, roles are resolved later, and only for what the gateway serves itself.
        if (user.GrantedRoles.Count == 0 && !_options.Upstream.RolesFromUpstream)
            return new AuthenticationResult(null, $"no role is granted to '{user.Subject}': the token's \"{_jwt.RolesClaim}\"/\"{_jwt.RoleClaim}\" claims name no configured role and no default role is set. Ask this gateway's admin for a role", user.Subject) { NoRole = true };
        return new AuthenticationResult(user, null, user.Subject);
    }

    private IEnumerable<SecurityKey> KeysFor(string alg, string? kid)
    {
        // Each algorithm only with its own kind of key, so a public key can never be used as an HMAC secret.
        if (alg == SecurityAlgorithms.HmacSha256)
            return _hmacKey is null ? [] : [_hmacKey];
        var kty = alg == SecurityAlgorithms.RsaSha256 ? JsonWebAlgorithmsKeyTypes.RSA : JsonWebAlgorithmsKeyTypes.EllipticCurve;
        var candidates = _jwks.Where(k => k is JsonWebKey j && j.Kty == kty);
        return string.IsNullOrEmpty(kid) ? candidates.ToArray() : candidates.Where(k => k.KeyId == kid).ToArray();
    }

    private static string Describe(Exception? ex) => ex switch
    {
        SecurityTokenExpiredException => "the token has expired: get a new one",
        SecurityTokenNotYetValidException => "the token is not valid yet (nbf is in the future)",
        SecurityTokenNoExpirationException => "the token has no expiry (exp)",
        SecurityTokenInvalidAudienceException => "the token is for another audience (aud)",
        SecurityTokenInvalidIssuerException => "the token is from an issuer this gateway does not accept (iss)",
        // Also what a signature made with any other key looks like: no configured key verifies it.
        SecurityTokenSignatureKeyNotFoundException => "the token's signature does not verify with any configured key",
        SecurityTokenInvalidSignatureException => "the token's signature does not verify",
        SecurityTokenInvalidAlgorithmException => "the token's algorithm is not accepted",
        SecurityTokenMalformedException => "the bearer token is not a well-formed JWT",
        _ => "the token could not be verified",
    };

    private GatewayUser MapUser(JsonWebToken token)
    {
        string Claim(string type) => token.Claims.FirstOrDefault(c => c.Type == type)?.Value ?? "";
        var subject = Claim(_jwt.SubjectClaim);
        var email = Claim(_jwt.EmailClaim);
        var name = Claim(_jwt.NameClaim);
        if (name.Length == 0)
            name = Claim("preferred_username");
        if (name.Length == 0)
            name = subject;

        var roles = new List<string>();
        var defaultRole = Claim(_jwt.RoleClaim);
        if (defaultRole.Length > 0)
            roles.Add(defaultRole);
        foreach (var claim in token.Claims.Where(c => c.Type == _jwt.RolesClaim))
            roles.AddRange(SplitRoles(claim));
        var isAdmin = IsTrue(token, _jwt.AdminClaim);
        // The e-mail claim is whatever the token's issuer let the user type in; only the subject, or an address the
        // provider says it verified, may pick up someone's users.* entry (and with it their roles and admin right).
        if (_options.Users.TryGetValue(subject, out var entry)
            || (email.Length > 0 && IsTrue(token, _jwt.EmailVerifiedClaim) && _options.Users.TryGetValue(email, out entry)))
        {
            roles.AddRange(entry.Roles);
            isAdmin |= entry.Admin;
        }
        // Only roles this gateway knows can be acted as.
        var granted = roles.Where(r => _options.Roles.ContainsKey(r)).Distinct(StringComparer.Ordinal).ToList();
        if (granted.Count == 0 && _options.DefaultRole is not null)
            granted.Add(_options.DefaultRole);
        var first = defaultRole.Length > 0 && granted.Contains(defaultRole) ? defaultRole : granted.FirstOrDefault();
        return new GatewayUser(subject, name, email, isAdmin, granted, first);
    }

    /// <summary>A boolean claim that is true (JSON true, or the string "true" as some providers send it).</summary>
    private static bool IsTrue(JsonWebToken token, string claimType) =>
        token.Claims.Any(c => c.Type == claimType && string.Equals(c.Value, "true", StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<string> SplitRoles(Claim claim)
    {
        var value = claim.Value;
        if (claim.ValueType == JsonClaimValueTypes.JsonArray)
        {
            using var doc = JsonDocument.Parse(value);
            return doc.RootElement.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray();
        }
        return value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static string? Truncate(string? value) => value is null ? null : value.Length <= 128 ? value : value[..128] + "…";

    private static AuthenticationResult Fail(string reason, string? claimedSubject = null) => new(null, reason, claimedSubject);

    public void Dispose()
    {
        _jwksClient?.Dispose();
        _jwksRefresh.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Read {Count} signing keys from the JWKS URL")]
    private static partial void LogJwksRead(ILogger logger, int count);
}
