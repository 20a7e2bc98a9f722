using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quilt.Gateway.Data;
using Quilt.Gateway.OAuth;

namespace Quilt.Gateway.Tests;

/// <summary>
/// Drives the built-in authorization server as an OAuth client would, over plain HTTP (no redirects followed, cookies
/// by hand): registration, the consent form, the token endpoint and token exchange.
/// </summary>
public sealed partial class OAuthDriver(Uri baseUrl) : IDisposable
{
    public const string Resource = "http://127.0.0.1:8765/mcp";
    public const string RedirectUri = "http://127.0.0.1:33418/callback";

    public HttpClient Http { get; } = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public Uri BaseUrl { get; } = baseUrl;

    /// <summary>The issuer the redirect must name (RFC 9207): the gateway's address unless oauth.issuer is set.</summary>
    public string? ExpectedIssuer { get; init; }

    public string Verifier { get; } = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public string Challenge => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(Verifier)));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async Task<(HttpStatusCode Status, JsonNode Body)> RegisterAsync(string json)
    {
        using var response = await Http.PostAsync(new Uri(BaseUrl, "/oauth/register"), new StringContent(json, Encoding.UTF8, "application/json"), Ct);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!);
    }

    public async Task<string> RegisterClientAsync(string redirectUri = RedirectUri)
    {
        var (status, body) = await RegisterAsync($$"""{"client_name":"Test client","redirect_uris":["{{redirectUri}}"]}""");
        Assert.Equal(HttpStatusCode.Created, status);
        return body["client_id"]!.GetValue<string>();
    }

    public string AuthorizeQuery(string clientId, string? method = "S256", string scope = "quilt.read quilt.write", string resource = Resource) =>
        $"/oauth/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&code_challenge={Challenge}"
        + (method is null ? "" : $"&code_challenge_method={method}") + $"&state=st-123&scope={Uri.EscapeDataString(scope)}&resource={Uri.EscapeDataString(resource)}";

    /// <summary>The consent page: its HTML, the hidden fields and the CSRF cookie set with it.</summary>
    public async Task<(HttpResponseMessage Response, string Html, Dictionary<string, string> Fields, string? Cookie)> ConsentPageAsync(string pathAndQuery)
    {
        var response = await Http.GetAsync(new Uri(BaseUrl, pathAndQuery), Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        var fields = HiddenField().Matches(html).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        var cookie = response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => v.Split(';')[0]).FirstOrDefault(v => v.StartsWith(OAuthServer.CsrfCookie + "=", StringComparison.Ordinal))
            : null;
        return (response, html, fields, cookie);
    }

    public async Task<HttpResponseMessage> PostConsentAsync(Dictionary<string, string> fields, string? cookie, string? quiltToken, string decision = "allow")
    {
        var form = new Dictionary<string, string>(fields) { ["decision"] = decision };
        if (quiltToken is not null)
            form["quilt_token"] = quiltToken;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "/oauth/authorize")) { Content = new FormUrlEncodedContent(form) };
        if (cookie is not null)
            request.Headers.Add("Cookie", cookie);
        return await Http.SendAsync(request, Ct);
    }

    /// <summary>Registers, consents with <paramref name="quiltToken"/> and returns the code from the redirect.</summary>
    public async Task<(string ClientId, string Code)> AuthorizeAsync(string quiltToken, string scope = "quilt.read quilt.write")
    {
        var clientId = await RegisterClientAsync();
        var (page, _, fields, cookie) = await ConsentPageAsync(AuthorizeQuery(clientId, scope: scope));
        using (page)
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        using var approved = await PostConsentAsync(fields, cookie, quiltToken);
        Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        var location = approved.Headers.Location!;
        Assert.StartsWith(RedirectUri + "?", location.OriginalString, StringComparison.Ordinal);
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("st-123", query["state"]);
        Assert.Equal(ExpectedIssuer ?? BaseUrl.OriginalString.TrimEnd('/'), query["iss"]);
        return (clientId, query["code"]!);
    }

    public async Task<(HttpStatusCode Status, JsonNode Body)> TokenAsync(Dictionary<string, string> form, AuthenticationHeaderValue? authorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "/oauth/token")) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = authorization;
        using var response = await Http.SendAsync(request, Ct);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!);
    }

    public Task<(HttpStatusCode Status, JsonNode Body)> RedeemAsync(string clientId, string code, string? verifier = null) => TokenAsync(new()
    {
        ["grant_type"] = "authorization_code",
        ["code"] = code,
        ["client_id"] = clientId,
        ["redirect_uri"] = RedirectUri,
        ["code_verifier"] = verifier ?? Verifier,
        ["resource"] = Resource,
    });

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("<input type=\"hidden\" name=\"([a-z_]+)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenField();
}

/// <summary>The gateway's built-in authorization server: metadata, registration, PKCE, codes, consent, tokens, exchange.</summary>
public sealed class OAuthServerTests(GatewayFixture gateway)
{
    public const string ExchangeClient = "quilt-mcp";
    public static readonly string ExchangeSecret = new('s', 40);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<GatewayInstance> StartAsync(Action<OAuthOptions>? configure = null) => GatewayInstance.StartAsync(gateway, o =>
    {
        o.OAuth.Enabled = true;
        o.OAuth.ExchangeClients[ExchangeClient] = new ExchangeClientOptions { Secret = ExchangeSecret };
        configure?.Invoke(o.OAuth);
    });

    private static AuthenticationHeaderValue Basic(string id, string secret) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));

    [Fact]
    public async Task Metadata_names_the_endpoints_pkce_s256_only_and_the_grants()
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var body = JsonNode.Parse(await driver.Http.GetStringAsync(new Uri(instance.BaseUrl, "/.well-known/oauth-authorization-server"), Ct))!;
        var issuer = instance.BaseUrl.OriginalString.TrimEnd('/');
        Assert.Equal(issuer, body["issuer"]!.GetValue<string>());
        Assert.Equal(issuer + "/oauth/authorize", body["authorization_endpoint"]!.GetValue<string>());
        Assert.Equal(issuer + "/oauth/token", body["token_endpoint"]!.GetValue<string>());
        Assert.Equal(issuer + "/oauth/register", body["registration_endpoint"]!.GetValue<string>());
        Assert.Equal(["S256"], body["code_challenge_methods_supported"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Contains(OAuthServer.TokenExchangeGrant, body["grant_types_supported"]!.AsArray().Select(v => v!.GetValue<string>()));
        var jwks = JsonNode.Parse(await driver.Http.GetStringAsync(new Uri(body["jwks_uri"]!.GetValue<string>()), Ct))!;
        var key = Assert.Single(jwks["keys"]!.AsArray())!;
        Assert.Equal("EC", key["kty"]!.GetValue<string>());
        Assert.Null(key["d"]);
    }

    [Theory]
    [InlineData("""{"redirect_uris":["myapp://callback"]}""", "invalid_redirect_uri")]
    [InlineData("""{"redirect_uris":["http://evil.example/callback"]}""", "invalid_redirect_uri")]
    [InlineData("""{"redirect_uris":["https://app.example/cb#frag"]}""", "invalid_redirect_uri")]
    [InlineData("""{"redirect_uris":["javascript:alert(1)"]}""", "invalid_redirect_uri")]
    [InlineData("""{"client_name":"no uris"}""", "invalid_redirect_uri")]
    [InlineData("""{"redirect_uris":["https://app.example/cb"],"grant_types":["client_credentials"]}""", "invalid_client_metadata")]
    [InlineData("""not json""", "invalid_client_metadata")]
    public async Task Registration_refuses_redirect_uris_that_are_not_https_or_loopback_http(string metadata, string error)
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var (status, body) = await driver.RegisterAsync(metadata);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(error, body["error"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["error_description"]?.GetValue<string>()));
    }

    [Fact]
    public async Task Registration_accepts_https_and_loopback_http_as_a_public_client_and_is_audited()
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var (status, body) = await driver.RegisterAsync("""{"client_name":"Claude","redirect_uris":["https://claude.ai/api/mcp/auth_callback","http://localhost:6274/cb","http://[::1]:9/cb"],"token_endpoint_auth_method":"client_secret_post"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("none", body["token_endpoint_auth_method"]!.GetValue<string>());
        Assert.Null(body["client_secret"]);
        var clientId = body["client_id"]!.GetValue<string>();
        var audit = await instance.AuditStore.ReadAsync(new AuditQuery { Action = "oauth.register" }, Ct);
        Assert.Contains(audit, e => e.Target == clientId && e.Outcome == AuditOutcome.Allowed);
    }

    [Fact]
    public async Task The_code_flow_gives_an_access_token_for_the_resource_that_the_registry_does_not_accept()
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var subject = GatewayFixture.NewSubject("oauth");
        var (clientId, code) = await driver.AuthorizeAsync(gateway.Tokens.Hs256(subject, "reader"), scope: "quilt.read");
        var (status, body) = await driver.RedeemAsync(clientId, code);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Bearer", body["token_type"]!.GetValue<string>());
        Assert.Equal("quilt.read", body["scope"]!.GetValue<string>());
        var accessToken = body["access_token"]!.GetValue<string>();

        // Signed with the published key, for the resource, with the user and the approved scope.
        var jwks = new JsonWebKeySet(await driver.Http.GetStringAsync(new Uri(instance.BaseUrl, "/oauth/jwks"), Ct));
        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(accessToken, new TokenValidationParameters
        {
            ValidIssuer = instance.BaseUrl.OriginalString.TrimEnd('/'),
            ValidAudience = OAuthDriver.Resource,
            IssuerSigningKeys = jwks.GetSigningKeys(),
        });
        Assert.True(validated.IsValid, validated.Exception?.Message);
        var jwt = (JsonWebToken)validated.SecurityToken;
        Assert.Equal(subject, jwt.Subject);
        Assert.Equal("quilt.read", jwt.GetClaim("scope").Value);
        Assert.Equal("at+jwt", jwt.Typ);

        // No passthrough: the registry (this gateway's GraphQL) refuses a token minted for the MCP server.
        var (graphStatus, _) = await instance.GraphQLAsync(accessToken, "query { me { name } }", null, "/graphql", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, graphStatus);

        // Single use: the same code again is refused.
        var (again, error) = await driver.RedeemAsync(clientId, code);
        Assert.Equal(HttpStatusCode.BadRequest, again);
        Assert.Equal("invalid_grant", error["error"]!.GetValue<string>());

        var audit = await instance.AuditStore.ReadAsync(new AuditQuery { Subject = subject }, Ct);
        Assert.Contains(audit, e => e.Action == "oauth.authorize" && e.Outcome == AuditOutcome.Allowed);
        Assert.Contains(audit, e => e.Action == "oauth.token" && e.Outcome == AuditOutcome.Allowed);
    }

    [Fact]
    public async Task A_wrong_pkce_verifier_is_refused_and_burns_the_code()
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var (clientId, code) = await driver.AuthorizeAsync(gateway.Tokens.Hs256(GatewayFixture.NewSubject("pkce"), "reader"));
        var (status, body) = await driver.RedeemAsync(clientId, code, verifier: Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", body["error"]!.GetValue<string>());
        Assert.Contains("code_verifier", body["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
        var (after, _) = await driver.RedeemAsync(clientId, code);
        Assert.Equal(HttpStatusCode.BadRequest, after);
    }

    [Fact]
    public async Task An_expired_code_is_refused()
    {
        await using var instance = await StartAsync(o => o.CodeSeconds = 10);
        using var driver = new OAuthDriver(instance.BaseUrl);
        var (clientId, code) = await driver.AuthorizeAsync(gateway.Tokens.Hs256(GatewayFixture.NewSubject("late"), "reader"));
        // Past its lifetime in the database, as a code used too late would be.
        await using (var connection = await ((SqlGatewayStore)instance.StateStore).OpenConnectionAsync(Ct))
            await SqlGatewayStore.ExecuteAsync(connection, "UPDATE oauth_codes SET expires_ms = 0", [], Ct);
        var (status, body) = await driver.RedeemAsync(clientId, code);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("expired", body["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData(null)]
    public async Task Authorization_without_pkce_s256_goes_back_with_invalid_request(string? method)
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var clientId = await driver.RegisterClientAsync();
        using var response = await driver.Http.GetAsync(new Uri(instance.BaseUrl, driver.AuthorizeQuery(clientId, method)), Ct);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = System.Web.HttpUtility.ParseQueryString(response.Headers.Location!.Query);
        Assert.Equal("invalid_request", query["error"]);
        Assert.Contains("S256", query["error_description"], StringComparison.Ordinal);
        Assert.Null(query["code"]);
    }

    [Fact]
    public async Task An_unregistered_redirect_uri_gets_an_error_page_not_a_redirect()
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var clientId = await driver.RegisterClientAsync();
        var query = driver.AuthorizeQuery(clientId).Replace(Uri.EscapeDataString(OAuthDriver.RedirectUri), Uri.EscapeDataString("https://evil.example/cb"), StringComparison.Ordinal);
        using var response = await driver.Http.GetAsync(new Uri(instance.BaseUrl, query), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task A_resource_not_configured_is_refused_with_invalid_target()
    {
        await using var instance = await StartAsync(o => o.Resources = [OAuthDriver.Resource]);
        using var driver = new OAuthDriver(instance.BaseUrl);
        var clientId = await driver.RegisterClientAsync();
        using var response = await driver.Http.GetAsync(new Uri(instance.BaseUrl, driver.AuthorizeQuery(clientId, resource: "https://other.example/mcp")), Ct);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("invalid_target", System.Web.HttpUtility.ParseQueryString(response.Headers.Location!.Query)["error"]);
    }

    [Fact]
    public async Task The_consent_form_needs_its_csrf_cookie_and_a_valid_quilt_token()
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var clientId = await driver.RegisterClientAsync();
        var (page, html, fields, cookie) = await driver.ConsentPageAsync(driver.AuthorizeQuery(clientId));
        using (page)
        {
            Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
            Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }
        Assert.Contains("Test client", html, StringComparison.Ordinal);
        Assert.NotNull(cookie);
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("csrf"), "reader");

        using (var noCookie = await driver.PostConsentAsync(fields, null, token))
            Assert.Equal(HttpStatusCode.Forbidden, noCookie.StatusCode);
        using (var otherCookie = await driver.PostConsentAsync(fields, OAuthServer.CsrfCookie + "=forged", token))
            Assert.Equal(HttpStatusCode.Forbidden, otherCookie.StatusCode);
        using (var badToken = await driver.PostConsentAsync(fields, cookie, gateway.Tokens.Expired(GatewayFixture.NewSubject("csrf"), "reader")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, badToken.StatusCode);
            Assert.Contains("expired", await badToken.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        using (var denied = await driver.PostConsentAsync(fields, cookie, null, decision: "deny"))
        {
            Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
            Assert.Equal("access_denied", System.Web.HttpUtility.ParseQueryString(denied.Headers.Location!.Query)["error"]);
        }
    }

    [Fact]
    public async Task Token_exchange_gives_the_exchange_client_a_registry_token_for_the_same_user()
    {
        await using var instance = await StartAsync();
        using var driver = new OAuthDriver(instance.BaseUrl);
        var subject = GatewayFixture.NewSubject("exchange");
        var (clientId, code) = await driver.AuthorizeAsync(gateway.Tokens.Hs256(subject, "uploader", "reader"));
        var accessToken = (await driver.RedeemAsync(clientId, code)).Body["access_token"]!.GetValue<string>();
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = OAuthServer.TokenExchangeGrant,
            ["subject_token"] = accessToken,
            ["subject_token_type"] = OAuthServer.AccessTokenType,
        };

        var (refused, error) = await driver.TokenAsync(form);
        Assert.Equal(HttpStatusCode.Unauthorized, refused);
        Assert.Equal("invalid_client", error["error"]!.GetValue<string>());
        var (wrong, _) = await driver.TokenAsync(form, Basic(ExchangeClient, "not-the-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);

        var (status, body) = await driver.TokenAsync(form, Basic(ExchangeClient, ExchangeSecret));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(OAuthServer.JwtTokenType, body["issued_token_type"]!.GetValue<string>());
        var registryToken = body["access_token"]!.GetValue<string>();
        var me = await instance.DataAsync(registryToken, "query { me { name role { name } roles { name } } }");
        Assert.Equal(subject, me["me"]!["name"]!.GetValue<string>());
        Assert.Equal("uploader", me["me"]!["role"]!["name"]!.GetValue<string>());

        // A registry token is not an access token from this server: it cannot be exchanged again.
        form["subject_token"] = registryToken;
        var (again, againError) = await driver.TokenAsync(form, Basic(ExchangeClient, ExchangeSecret));
        Assert.Equal(HttpStatusCode.BadRequest, again);
        Assert.Equal("invalid_grant", againError["error"]!.GetValue<string>());

        var audit = await instance.AuditStore.ReadAsync(new AuditQuery { Subject = subject, Action = "oauth.exchange" }, Ct);
        Assert.Contains(audit, e => e.Outcome == AuditOutcome.Allowed && e.Target == ExchangeClient);
    }

    [Fact]
    public async Task Two_instances_on_one_postgres_database_share_clients_codes_and_the_signing_key()
    {
        var database = await PostgresServer.CreateDatabaseAsync(Ct);
        const string issuer = "https://gateway.test";
        void Configure(Configuration.GatewayOptions o)
        {
            o.Audit.Postgres = database;
            o.OAuth.Enabled = true;
            o.OAuth.Issuer = issuer;
        }
        await using var first = await GatewayInstance.StartAsync(gateway, Configure);
        await using var second = await GatewayInstance.StartAsync(gateway, Configure);
        using var atFirst = new OAuthDriver(first.BaseUrl) { ExpectedIssuer = issuer };
        using var atSecond = new OAuthDriver(second.BaseUrl);
        Assert.Equal(await atFirst.Http.GetStringAsync(new Uri(first.BaseUrl, "/oauth/jwks"), Ct), await atSecond.Http.GetStringAsync(new Uri(second.BaseUrl, "/oauth/jwks"), Ct));

        // Registered and approved at the first, redeemed at the second (same verifier: the same client's session).
        var (clientId, code) = await atFirst.AuthorizeAsync(gateway.Tokens.Hs256(GatewayFixture.NewSubject("pg"), "reader"));
        var (status, body) = await atSecond.RedeemAsync(clientId, code, atFirst.Verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(issuer, new JsonWebToken(body["access_token"]!.GetValue<string>()).Issuer);
        var (again, _) = await atFirst.RedeemAsync(clientId, code);
        Assert.Equal(HttpStatusCode.BadRequest, again);
    }

    [Fact]
    public void Options_are_checked_at_start()
    {
        var options = gateway.CreateOptions("jwks.json", "x.db");
        options.OAuth.Enabled = true;
        options.OAuth.Issuer = "http://gateway.example";
        options.OAuth.Resources = ["ftp://mcp.example"];
        options.OAuth.CodeSeconds = 3600;
        options.OAuth.ExchangeClients["short"] = new ExchangeClientOptions { Secret = "x" };
        var problems = new List<string>();
        OAuthValidation.Validate(options, problems);
        Assert.Contains(problems, p => p.Contains("oauth.issuer", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("oauth.resources", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("oauth.codeSeconds", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("oauth.exchangeClients.short.secret", StringComparison.Ordinal));
    }
}
