using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Identity;
using Quilt.Gateway.Services;

namespace Quilt.Gateway.OAuth;

/// <summary>An authorization request as checked: a known client, one of its redirect URIs, PKCE, the resource and scopes.</summary>
internal sealed record AuthorizationRequest(OAuthClient Client, string RedirectUri, string CodeChallenge, string Resource, string Scope, string? State);

/// <summary>
/// The built-in authorization server's endpoints: RFC 8414 metadata, JWKS, dynamic client registration (RFC 7591,
/// public clients), the authorization endpoint with its consent page (authorization code + PKCE S256 only), and the
/// token endpoint (code redemption; token exchange, RFC 8693, for a registry token). Everything it hands out is audited.
/// </summary>
public sealed class OAuthServer
{
    public const string ReadScope = "quilt.read";
    public const string WriteScope = "quilt.write";
    public const string TokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    public const string JwtTokenType = "urn:ietf:params:oauth:token-type:jwt";
    internal const string CsrfCookie = "quilt_oauth_csrf";
    private const int MaxRegistrationBytes = 64 * 1024;
    private const int MaxRedirectUris = 10;
    private static readonly string[] Scopes = [ReadScope, WriteScope];

    private readonly WebApplication _app;
    private readonly GatewayOptions _options;
    private readonly OAuthOptions _oauth;
    private readonly OAuthKeys _keys;
    private readonly JsonWebTokenHandler _tokens = new() { MapInboundClaims = false, SetDefaultTimesOnTokenCreation = false };

    internal OAuthServer(WebApplication app, GatewayOptions options, OAuthKeys keys)
    {
        _app = app;
        _options = options;
        _oauth = options.OAuth;
        _keys = keys;
    }

    /// <summary>Registers the authorization server's endpoints when oauth.enabled (after its tables and key are ready).</summary>
    public static async Task MapAsync(WebApplication app, GatewayOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.OAuth.Enabled)
            return;
        var store = new OAuthStore(app.Services.GetRequiredService<SqlGatewayStore>());
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var keys = await OAuthKeys.LoadAsync(app.Services.GetRequiredService<IStateStore>(), app.Services.GetRequiredService<TimeProvider>(), cancellationToken).ConfigureAwait(false);
        app.Lifetime.ApplicationStopped.Register(keys.Dispose);
        var server = new OAuthServer(app, options, keys) { Store = store };
        app.MapGet("/.well-known/oauth-authorization-server", server.MetadataAsync).AllowAnonymous();
        if (options.OAuth.Issuer is { } issuer && new Uri(issuer).AbsolutePath.TrimEnd('/') is { Length: > 0 } path)
            app.MapGet("/.well-known/oauth-authorization-server" + path, server.MetadataAsync).AllowAnonymous();
        app.MapGet("/oauth/jwks", server.JwksAsync).AllowAnonymous();
        app.MapPost("/oauth/register", server.RegisterAsync).AllowAnonymous();
        app.MapGet("/oauth/authorize", server.AuthorizePageAsync).AllowAnonymous();
        app.MapPost("/oauth/authorize", server.ApproveAsync).AllowAnonymous();
        app.MapPost("/oauth/token", server.TokenAsync).AllowAnonymous();
    }

    internal OAuthStore Store { get; private init; } = null!;

    private TimeProvider Time => _app.Services.GetRequiredService<TimeProvider>();

    private AuditLog Audit => _app.Services.GetRequiredService<AuditLog>();

    /// <summary>The issuer identifier: configured, else the public URL, else where the gateway listens.</summary>
    public string Issuer => (_oauth.Issuer ?? _options.PublicUrl ?? (GatewayHost.Addresses(_app) is [var first, ..] ? first : "")).TrimEnd('/');

    private Task MetadataAsync(HttpContext http)
    {
        var issuer = Issuer;
        return WriteJsonAsync(http, StatusCodes.Status200OK, new Dictionary<string, object>
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = issuer + "/oauth/authorize",
            ["token_endpoint"] = issuer + "/oauth/token",
            ["registration_endpoint"] = issuer + "/oauth/register",
            ["jwks_uri"] = issuer + "/oauth/jwks",
            ["scopes_supported"] = Scopes,
            ["response_types_supported"] = new[] { "code" },
            ["response_modes_supported"] = new[] { "query" },
            ["grant_types_supported"] = new[] { "authorization_code", TokenExchangeGrant },
            ["code_challenge_methods_supported"] = new[] { "S256" },
            ["token_endpoint_auth_methods_supported"] = new[] { "none", "client_secret_basic" },
            ["authorization_response_iss_parameter_supported"] = true,
        }, cache: true);
    }

    private Task JwksAsync(HttpContext http) => WriteJsonAsync(http, StatusCodes.Status200OK, _keys.Jwks, cache: true);

    // ---- Dynamic client registration (RFC 7591) ----

    private async Task RegisterAsync(HttpContext http)
    {
        if (!http.Request.HasJsonContentType())
        {
            await OAuthErrorAsync(http, StatusCodes.Status415UnsupportedMediaType, "invalid_client_metadata", "Send the client metadata as JSON (Content-Type: application/json).");
            return;
        }
        using var body = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            body.Write(buffer, 0, n);
            if (body.Length > MaxRegistrationBytes)
            {
                await OAuthErrorAsync(http, StatusCodes.Status413PayloadTooLarge, "invalid_client_metadata", $"Client metadata is limited to {MaxRegistrationBytes} bytes.");
                return;
            }
        }
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_client_metadata", "The body is not JSON client metadata.");
            return;
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_client_metadata", "The client metadata must be a JSON object.");
            return;
        }
        var uris = new List<string>();
        if (!root.TryGetProperty("redirect_uris", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() is 0 or > MaxRedirectUris)
        {
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_redirect_uri", $"Give redirect_uris: 1 to {MaxRedirectUris} URLs.");
            return;
        }
        foreach (var item in list.EnumerateArray())
        {
            var uri = item.ValueKind == JsonValueKind.String ? item.GetString()! : "";
            // https anywhere, or http to this machine only (a native app's loopback listener, RFC 8252): never another scheme.
            if (uri.Length is 0 or > 2000 || !OAuthUrls.IsSafeUrl(uri, allowPath: true, allowQuery: true))
            {
                await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_redirect_uri",
                    $"The redirect URI '{Bound(uri, 200)}' is refused: use an https URL, or http on a loopback address (127.0.0.1, [::1], localhost), without fragment.");
                return;
            }
            uris.Add(uri);
        }
        if (root.TryGetProperty("grant_types", out var grants) && (grants.ValueKind != JsonValueKind.Array
            || !grants.EnumerateArray().Any(g => g.ValueKind == JsonValueKind.String && g.GetString() == "authorization_code")))
        {
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_client_metadata", "grant_types must include authorization_code, the only grant for registered clients.");
            return;
        }
        if (root.TryGetProperty("response_types", out var responses) && (responses.ValueKind != JsonValueKind.Array
            || !responses.EnumerateArray().Any(r => r.ValueKind == JsonValueKind.String && r.GetString() == "code")))
        {
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_client_metadata", "response_types must include code.");
            return;
        }
        var clientName = root.TryGetProperty("client_name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String ? Bound(nameElement.GetString(), 200) : null;
        var now = Time.GetUtcNow();
        var client = new OAuthClient("qc_" + Random(16), clientName, uris, now);
        await Store.AddClientAsync(client, http.RequestAborted);
        await Audit.WriteAsync("anonymous", null, "oauth.register", client.ClientId, AuditOutcome.Allowed,
            SqlGatewayStore.Details(("clientName", clientName), ("redirectUris", string.Join(" ", uris))), ClientAddress(http), http.RequestAborted);
        // Public clients only: whatever authentication method was asked for, the client proves itself with PKCE.
        await WriteJsonAsync(http, StatusCodes.Status201Created, new Dictionary<string, object?>
        {
            ["client_id"] = client.ClientId,
            ["client_id_issued_at"] = now.ToUnixTimeSeconds(),
            ["client_name"] = clientName,
            ["redirect_uris"] = uris,
            ["grant_types"] = new[] { "authorization_code" },
            ["response_types"] = new[] { "code" },
            ["token_endpoint_auth_method"] = "none",
        });
    }

    // ---- Authorization endpoint and consent ----

    /// <summary>
    /// The request checked in RFC 6749's order: an unknown client or redirect URI gets a page (never a redirect to an
    /// unchecked URI); the other problems go back to the client's redirect URI as error and error_description.
    /// </summary>
    private async Task<(AuthorizationRequest? Request, string? Page, string? RedirectError)> ParseAsync(Func<string, string?> get, CancellationToken cancellationToken)
    {
        var clientId = get("client_id");
        var client = clientId is { Length: > 0 and <= 100 } ? await Store.GetClientAsync(clientId, cancellationToken) : null;
        if (client is null)
            return (null, "The client_id is missing or not registered here: the app must register first (dynamic client registration).", null);
        var redirect = get("redirect_uri");
        if (redirect is null && client.RedirectUris.Count == 1)
            redirect = client.RedirectUris[0];
        if (redirect is null || !client.RedirectUris.Contains(redirect, StringComparer.Ordinal))
            return (null, "The redirect_uri is missing or not one this client registered.", null);
        var partial = new AuthorizationRequest(client, redirect, "", "", "", Bound(get("state"), 2000));
        if (get("response_type") != "code")
            return (partial, null, Redirect(partial, "unsupported_response_type", "Only response_type=code is supported."));
        var challenge = get("code_challenge");
        if (challenge is null || get("code_challenge_method") != "S256")
            return (partial, null, Redirect(partial, "invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256 (plain is not accepted)."));
        if (challenge.Length != 43 || !challenge.All(IsBase64UrlChar))
            return (partial, null, Redirect(partial, "invalid_request", "code_challenge is not a base64url SHA-256 (43 characters)."));
        var resource = get("resource");
        if (resource is null && _oauth.Resources.Count == 1)
            resource = _oauth.Resources[0];
        if (resource is null || !ResourceAllowed(resource))
            return (partial, null, Redirect(partial, "invalid_target",
                resource is null ? "Name the resource (the MCP server's URL) with the resource parameter (RFC 8707)." : "This authorization server does not issue tokens for that resource."));
        var requested = (get("scope") ?? string.Join(' ', Scopes)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (requested.Length == 0 || requested.Any(s => !Scopes.Contains(s, StringComparer.Ordinal)))
            return (partial, null, Redirect(partial, "invalid_scope", $"Ask for {ReadScope}, {WriteScope} or both."));
        var scope = string.Join(' ', Scopes.Where(requested.Contains));
        return (partial with { CodeChallenge = challenge, Resource = resource, Scope = scope }, null, null);
    }

    private bool ResourceAllowed(string resource)
    {
        if (_oauth.Resources.Count == 0)
            return resource.Length <= 2000 && OAuthUrls.IsSafeUrl(resource, allowPath: true);
        return _oauth.Resources.Any(r => string.Equals(r.TrimEnd('/'), resource.TrimEnd('/'), StringComparison.Ordinal));
    }

    private string Redirect(AuthorizationRequest request, string error, string description) =>
        Append(request.RedirectUri, [("error", error), ("error_description", description), ("state", request.State), ("iss", Issuer)]);

    private async Task AuthorizePageAsync(HttpContext http)
    {
        var query = http.Request.Query;
        var (request, page, redirect) = await ParseAsync(k => query.TryGetValue(k, out var v) ? v.ToString() : null, http.RequestAborted);
        if (page is not null)
        {
            await HtmlAsync(http, StatusCodes.Status400BadRequest, ConsentPage.Error(page));
            return;
        }
        if (redirect is not null)
        {
            http.Response.Redirect(redirect);
            return;
        }
        var csrf = Random(32);
        http.Response.Cookies.Append(CsrfCookie, csrf, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/",
            MaxAge = TimeSpan.FromMinutes(30),
        });
        await HtmlAsync(http, StatusCodes.Status200OK, ConsentPage.Render(request!, csrf, null));
    }

    private async Task ApproveAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType)
        {
            await HtmlAsync(http, StatusCodes.Status400BadRequest, ConsentPage.Error("Send the consent form."));
            return;
        }
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        string? Get(string key) => form.TryGetValue(key, out var v) ? v.ToString() : null;
        // The form must come from the page this gateway served to this browser: its hidden token equals the cookie set with it.
        var cookie = http.Request.Cookies[CsrfCookie];
        var posted = Get("csrf");
        if (cookie is null || posted is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(cookie), Encoding.UTF8.GetBytes(posted)))
        {
            await HtmlAsync(http, StatusCodes.Status403Forbidden, ConsentPage.Error("The consent form is not the one this page served (or it expired). Nothing was approved."));
            return;
        }
        var (request, page, redirect) = await ParseAsync(Get, http.RequestAborted);
        if (page is not null)
        {
            await HtmlAsync(http, StatusCodes.Status400BadRequest, ConsentPage.Error(page));
            return;
        }
        if (redirect is not null)
        {
            http.Response.Redirect(redirect);
            return;
        }
        if (Get("decision") != "allow")
        {
            await Audit.WriteAsync("anonymous", null, "oauth.authorize", request!.Client.ClientId, AuditOutcome.Denied,
                SqlGatewayStore.Details(("reason", "the user denied the request"), ("resource", request.Resource)), ClientAddress(http), http.RequestAborted);
            http.Response.Redirect(Redirect(request, "access_denied", "The user did not allow access."));
            return;
        }
        var token = Get("quilt_token")?.Trim() ?? "";
        var result = await _app.Services.GetRequiredService<JwtAuthenticator>().AuthenticateAsync("Bearer " + token, http.RequestAborted);
        if (!result.Succeeded)
        {
            await Audit.AnonymousRefusedAsync("oauth.authorize", result.ClaimedSubject, result.Reason!, ClientAddress(http), "/oauth/authorize", http.RequestAborted);
            await HtmlAsync(http, StatusCodes.Status401Unauthorized, ConsentPage.Render(request!, posted, $"That token was not accepted: {result.Reason}."));
            return;
        }
        var user = result.User!;
        var code = Random(32);
        var claims = new JsonObject
        {
            ["sub"] = user.Subject,
            ["name"] = user.Name,
            ["email"] = user.Email,
            ["roles"] = new JsonArray([.. user.GrantedRoles.Select(r => (JsonNode)r)]),
        };
        if (user.DefaultRole is not null)
            claims["role"] = user.DefaultRole;
        var now = Time.GetUtcNow();
        await Store.AddCodeAsync(new AuthorizationCode(Hash(code), request!.Client.ClientId, request.RedirectUri, request.CodeChallenge, request.Resource,
            request.Scope, user.Subject, claims.ToJsonString(), now.AddSeconds(_oauth.CodeSeconds)), now, http.RequestAborted);
        await Audit.WriteAsync(user.Subject, user.DefaultRole, "oauth.authorize", request.Client.ClientId, AuditOutcome.Allowed,
            SqlGatewayStore.Details(("resource", request.Resource), ("scope", request.Scope), ("redirectUri", request.RedirectUri)), ClientAddress(http), http.RequestAborted);
        http.Response.Cookies.Delete(CsrfCookie, new CookieOptions { Path = "/" });
        http.Response.Redirect(Append(request.RedirectUri, [("code", code), ("state", request.State), ("iss", Issuer)]));
    }

    // ---- Token endpoint ----

    private async Task TokenAsync(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (!http.Request.HasFormContentType)
        {
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_request", "POST the token request as application/x-www-form-urlencoded.");
            return;
        }
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        string? Get(string key) => form.TryGetValue(key, out var v) ? v.ToString() : null;
        switch (Get("grant_type"))
        {
            case "authorization_code":
                await RedeemCodeAsync(http, Get);
                return;
            case TokenExchangeGrant:
                await ExchangeAsync(http, Get);
                return;
            default:
                await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "unsupported_grant_type", $"grant_type must be authorization_code or {TokenExchangeGrant}.");
                return;
        }
    }

    private async Task RedeemCodeAsync(HttpContext http, Func<string, string?> get)
    {
        var code = get("code");
        // Taken out of the store before anything is checked: a code is tried once, right or wrong.
        var stored = code is { Length: > 0 and <= 200 } ? await Store.RedeemCodeAsync(Hash(code), http.RequestAborted) : null;
        var now = Time.GetUtcNow();
        string? problem = null;
        if (stored is null)
            problem = "The authorization code is unknown, already used or expired: authorize again.";
        else if (stored.Expires <= now)
            problem = "The authorization code has expired: authorize again.";
        else if (get("client_id") != stored.ClientId)
            problem = "The code was issued to another client.";
        else if (get("redirect_uri") is { } redirect && redirect != stored.RedirectUri)
            problem = "redirect_uri differs from the one the code was issued for.";
        else if (get("resource") is { } resource && resource.TrimEnd('/') != stored.Resource.TrimEnd('/'))
            problem = "resource differs from the one the user approved.";
        else if (!VerifierMatches(get("code_verifier"), stored.CodeChallenge))
            problem = "The PKCE code_verifier does not match the code_challenge.";
        if (problem is not null)
        {
            await Audit.WriteAsync(stored?.Subject ?? "anonymous", null, "oauth.token", get("client_id"), AuditOutcome.Denied,
                SqlGatewayStore.Details(("reason", problem)), ClientAddress(http), http.RequestAborted);
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_grant", problem);
            return;
        }
        var claims = JsonNode.Parse(stored!.ClaimsJson)!.AsObject();
        var lifetime = _oauth.AccessTokenSeconds;
        var payload = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["client_id"] = stored.ClientId,
            ["scope"] = stored.Scope,
            ["jti"] = Random(16),
        };
        foreach (var (name, value) in claims)
        {
            if (value is JsonArray array)
                payload[name] = array.Select(v => v!.GetValue<string>()).ToArray();
            else if (value is not null)
                payload[name] = value.GetValue<string>();
        }
        var accessToken = _tokens.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = stored.Resource,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddSeconds(lifetime).UtcDateTime,
            TokenType = "at+jwt",
            Claims = payload,
            SigningCredentials = _keys.Credentials,
        });
        await Audit.WriteAsync(stored.Subject, null, "oauth.token", stored.ClientId, AuditOutcome.Allowed,
            SqlGatewayStore.Details(("resource", stored.Resource), ("scope", stored.Scope), ("expiresIn", lifetime)), ClientAddress(http), http.RequestAborted);
        await WriteJsonAsync(http, StatusCodes.Status200OK, new Dictionary<string, object>
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = lifetime,
            ["scope"] = stored.Scope,
        });
    }

    /// <summary>
    /// RFC 8693: an exchange client (an MCP server in registry mode) trades a user's access token, minted here for that
    /// server, for a registry token for the same user, signed as the Quilt registry signs its own (HS256, jwt.issuers[0],
    /// jwt.audiences[0]), so the gateway or a Quilt registry accepts it. The access token itself is never accepted there.
    /// </summary>
    private async Task ExchangeAsync(HttpContext http, Func<string, string?> get)
    {
        var (clientId, secret) = ClientCredentials(http, get);
        if (clientId is null || !_oauth.ExchangeClients.TryGetValue(clientId, out var client) || client.Secret is null || secret is null
            || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), SHA256.HashData(Encoding.UTF8.GetBytes(client.Secret))))
        {
            await Audit.AnonymousRefusedAsync("oauth.exchange", null, "unknown exchange client or wrong secret", ClientAddress(http), "/oauth/token", http.RequestAborted);
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"quilt-gateway\"";
            await OAuthErrorAsync(http, StatusCodes.Status401Unauthorized, "invalid_client", "Token exchange is for the exchange clients this gateway is configured with (oauth.exchangeClients); authenticate with HTTP Basic.");
            return;
        }
        var subjectToken = get("subject_token");
        if (subjectToken is not { Length: > 0 and <= 16 * 1024 } || get("subject_token_type") is not (AccessTokenType or JwtTokenType))
        {
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_request", $"Send subject_token, with subject_token_type {AccessTokenType}.");
            return;
        }
        var audience = get("audience") ?? _options.Jwt.Audiences.FirstOrDefault();
        if (audience is null || !_options.Jwt.Audiences.Contains(audience, StringComparer.Ordinal))
        {
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_target", "The audience must be the registry's (one of jwt.audiences), or left out.");
            return;
        }
        var validation = await _tokens.ValidateTokenAsync(subjectToken, new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidateIssuer = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            IssuerSigningKey = _keys.SigningKey,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            ValidTypes = ["at+jwt"],
            ValidateAudience = true,
            // A token minted here for a resource (an MCP server), never one for the registry itself.
            AudienceValidator = (audiences, _, _) => audiences.Any(a => ResourceAllowed(a) && !_options.Jwt.Audiences.Contains(a, StringComparer.Ordinal)),
            ClockSkew = TimeSpan.FromSeconds(30),
        });
        if (!validation.IsValid)
        {
            await Audit.WriteAsync("anonymous", null, "oauth.exchange", clientId, AuditOutcome.Denied,
                SqlGatewayStore.Details(("reason", "the subject token is not a valid access token from this issuer")), ClientAddress(http), http.RequestAborted);
            await OAuthErrorAsync(http, StatusCodes.Status400BadRequest, "invalid_grant", "The subject_token is not a valid access token from this authorization server (expired, tampered, or not for a known resource).");
            return;
        }
        var subject = (JsonWebToken)validation.SecurityToken;
        var now = Time.GetUtcNow();
        var expires = new[] { now.AddSeconds(_oauth.RegistryTokenSeconds), new DateTimeOffset(subject.ValidTo, TimeSpan.Zero) }.Min();
        var jwt = _options.Jwt;
        string Claim(string type) => subject.TryGetPayloadValue<string>(type, out var value) ? value : "";
        var roles = subject.Claims.Where(c => c.Type == "roles").Select(c => c.Value).ToArray();
        var payload = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [jwt.SubjectClaim] = subject.Subject,
            [jwt.NameClaim] = Claim("name"),
            [jwt.EmailClaim] = Claim("email"),
            [jwt.RolesClaim] = roles,
            // Who acts for the user (RFC 8693's actor claim), for the registry's audit trail.
            ["act"] = new Dictionary<string, object> { ["sub"] = clientId },
        };
        if (Claim("role") is { Length: > 0 } role)
            payload[jwt.RoleClaim] = role;
        var registryToken = _tokens.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuers[0],
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = payload,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(SigningKeys.ReadHs256Secret(jwt)!), SecurityAlgorithms.HmacSha256),
        });
        var lifetime = (int)Math.Max(1, (expires - now).TotalSeconds);
        await Audit.WriteAsync(subject.Subject, Claim("role") is { Length: > 0 } r ? r : null, "oauth.exchange", clientId, AuditOutcome.Allowed,
            SqlGatewayStore.Details(("audience", audience), ("resource", subject.Audiences.FirstOrDefault()), ("expiresIn", lifetime)), ClientAddress(http), http.RequestAborted);
        await WriteJsonAsync(http, StatusCodes.Status200OK, new Dictionary<string, object>
        {
            ["access_token"] = registryToken,
            ["issued_token_type"] = JwtTokenType,
            ["token_type"] = "Bearer",
            ["expires_in"] = lifetime,
        });
    }

    private static (string? Id, string? Secret) ClientCredentials(HttpContext http, Func<string, string?> get)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                    return (Uri.UnescapeDataString(decoded[..colon]), Uri.UnescapeDataString(decoded[(colon + 1)..]));
            }
            catch (FormatException)
            {
            }
            return (null, null);
        }
        return (get("client_id"), get("client_secret"));
    }

    private static bool VerifierMatches(string? verifier, string challenge)
    {
        // RFC 7636: 43 to 128 unreserved characters.
        if (verifier is not { Length: >= 43 and <= 128 } || !verifier.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~'))
            return false;
        var computed = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(challenge));
    }

    // ---- helpers ----

    private static bool IsBase64UrlChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    private static string Random(int bytes) => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(bytes));

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string? ClientAddress(HttpContext http) => http.Connection.RemoteIpAddress?.ToString();

    private static string? Bound(string? text, int max) => text is null ? null : text.Length <= max ? text : text[..max];

    private static string Append(string uri, IEnumerable<(string Key, string? Value)> parameters)
    {
        var query = string.Join('&', parameters.Where(p => p.Value is not null).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}"));
        return uri + (uri.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query;
    }

    private static async Task HtmlAsync(HttpContext http, int status, string html)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        // No framing (clickjacking), no scripts, nothing cached or leaked through Referer.
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";
        http.Response.Headers.XFrameOptions = "DENY";
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        await http.Response.WriteAsync(html, http.RequestAborted);
    }

    private static Task OAuthErrorAsync(HttpContext http, int status, string error, string description) =>
        WriteJsonAsync(http, status, new Dictionary<string, object> { ["error"] = error, ["error_description"] = description });

    private static async Task WriteJsonAsync<T>(HttpContext http, int status, T body, bool cache = false)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = cache ? "max-age=300" : "no-store";
        await JsonSerializer.SerializeAsync(http.Response.Body, body, cancellationToken: http.RequestAborted);
    }
}
