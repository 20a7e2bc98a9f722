using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests.Authorization;

/// <summary>
/// The MCP server over HTTP as an OAuth protected resource, against a small issuer on loopback (its RFC 8414 metadata
/// and JWKS): metadata, 401/403 challenges, tokens refused for audience, issuer, expiry, signature, and scopes per tool family.
/// </summary>
public sealed class OAuthResourceTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private WebApplication? _issuerApp;
    private WebApplication? _app;
    private string _issuer = "";
    private Uri _endpoint = null!;
    private readonly HttpClient _http = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<(string Authorization, string Grant, string SubjectToken)> _exchanges = [];
    private readonly System.Collections.Concurrent.ConcurrentBag<string> _registryAuthorizations = [];

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        // The issuer: metadata naming its JWKS, and the JWKS with one EC public key.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Services.AddRoutingCore();
        _issuerApp = builder.Build();
        _issuerApp.MapGet("/.well-known/oauth-authorization-server", () => Results.Text(
            $$"""{"issuer":"{{_issuer}}","jwks_uri":"{{_issuer}}/jwks","token_endpoint":"{{_issuer}}/token"}""", "application/json"));
        _issuerApp.MapGet("/jwks", () => Results.Text(Jwks(_key, "k1"), "application/json"));
        // Token exchange as the authorization server answers it, and a registry that records what it was sent.
        _issuerApp.MapPost("/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            _exchanges.Add((context.Request.Headers.Authorization.ToString(), form["grant_type"].ToString(), form["subject_token"].ToString()));
            return Results.Text("""{"access_token":"registry-token-for-alice","issued_token_type":"urn:ietf:params:oauth:token-type:jwt","token_type":"Bearer","expires_in":600}""", "application/json");
        });
        _issuerApp.MapPost("/registry/graphql", (HttpContext context) =>
        {
            _registryAuthorizations.Add(context.Request.Headers.Authorization.ToString());
            return Results.Text("""{"errors":[{"message":"not a real registry"}]}""", "application/json");
        });
        await _issuerApp.StartAsync(ct);
        _issuer = _issuerApp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

        Directory.CreateDirectory(Path.Join(_root.Path, "auth-bucket"));
        await File.WriteAllTextAsync(Path.Join(_root.Path, "auth-bucket", "a.txt"), "hello", ct);
        var http = new HttpSettings { Urls = ["http://127.0.0.1:0"], Auth = new AuthSettings { Issuer = new Uri(_issuer) } };
        var settings = TestData.Settings("auth-bucket") with { Http = http };
        var store = new LocalFolderStore(_root.Path);
        _app = QuiltMcpServer.BuildHttpApp(settings, http, storeFactory: _ => store);
        await _app.StartAsync(ct);
        _endpoint = new Uri(QuiltMcpServer.EndpointsOf(_app, http).Single());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
        if (_issuerApp is not null)
            await _issuerApp.DisposeAsync();
        _http.Dispose();
        _key.Dispose();
        _otherKey.Dispose();
        _root.Dispose();
    }

    private static string Jwks(ECDsa key, string kid)
    {
        var p = key.ExportParameters(false);
        return $$"""{"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"{{kid}}","x":"{{Base64UrlEncoder.Encode(p.Q.X)}}","y":"{{Base64UrlEncoder.Encode(p.Q.Y)}}"}]}""";
    }

    private string Token(string scope, string? audience = null, string? issuer = null, DateTime? expires = null, ECDsa? key = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? _issuer,
            Audience = audience ?? _endpoint.OriginalString,
            IssuedAt = now.AddMinutes(-10),
            NotBefore = now.AddMinutes(-10),
            Expires = expires ?? now.AddMinutes(10),
            Claims = new Dictionary<string, object> { ["sub"] = "alice", ["scope"] = scope },
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key ?? _key) { KeyId = "k1" }, SecurityAlgorithms.EcdsaSha256),
        });
    }

    private async Task<HttpResponseMessage> PostAsync(string json, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Accept", "application/json, text/event-stream");
        if (token is not null)
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await _http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static string Call(string tool, string arguments) =>
        $$$"""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"{{{tool}}}","arguments":{{{arguments}}}}}""";

    private const string ToolsList = """{"jsonrpc":"2.0","id":1,"method":"tools/list"}""";

    private static async Task<string> BodyAsync(HttpResponseMessage response) => await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

    private static string Challenge(HttpResponseMessage response) => response.Headers.WwwAuthenticate.ToString();

    [Fact]
    public async Task Protected_resource_metadata_names_the_issuer_the_resource_and_the_scopes_at_both_well_known_paths()
    {
        var origin = _endpoint.GetLeftPart(UriPartial.Authority);
        foreach (var path in new[] { "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource" })
        {
            using var response = await _http.GetAsync(new Uri(origin + path), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var doc = JsonDocument.Parse(await BodyAsync(response));
            Assert.Equal(_endpoint.OriginalString, doc.RootElement.GetProperty("resource").GetString());
            Assert.Equal([_issuer], doc.RootElement.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["quilt.read", "quilt.write"], doc.RootElement.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()));
        }
    }

    [Fact]
    public async Task A_request_without_a_token_gets_401_pointing_to_the_resource_metadata()
    {
        using var response = await PostAsync(ToolsList, null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Challenge(response);
        Assert.StartsWith("Bearer ", challenge, StringComparison.Ordinal);
        Assert.Contains($"resource_metadata=\"{_endpoint.GetLeftPart(UriPartial.Authority)}/.well-known/oauth-protected-resource/mcp\"", challenge, StringComparison.Ordinal);
        Assert.Contains("scope=\"quilt.read quilt.write\"", challenge, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadTokens() => new()
    {
        { "audience", "another audience" },
        { "issuer", "issuer this server does not accept" },
        { "expired", "expired" },
        { "tampered", "signature does not verify" },
        { "other-key", "signature does not verify" },
        { "hs256", "not accepted" },
        { "garbage", "not a JWT" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_token_not_minted_by_the_issuer_for_this_server_is_refused_with_invalid_token(string kind, string reason)
    {
        var good = Token("quilt.read quilt.write");
        var token = kind switch
        {
            "audience" => Token("quilt.read quilt.write", audience: "http://127.0.0.1:1/mcp"),
            "issuer" => Token("quilt.read quilt.write", issuer: "https://evil.example"),
            "expired" => Token("quilt.read quilt.write", expires: DateTime.UtcNow.AddMinutes(-5)),
            // The payload changed after signing: a wider scope claimed.
            "tampered" => good.Split('.')[0] + "." + Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(
                Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(good.Split('.')[1])).Replace("alice", "admin", StringComparison.Ordinal))) + "." + good.Split('.')[2],
            "other-key" => Token("quilt.read quilt.write", key: _otherKey),
            "hs256" => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = _issuer, Audience = _endpoint.OriginalString, Expires = DateTime.UtcNow.AddMinutes(5),
                SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(new byte[32]), SecurityAlgorithms.HmacSha256),
            }),
            _ => "not-a-token",
        };
        using var response = await PostAsync(ToolsList, token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Challenge(response);
        Assert.Contains("error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        Assert.Contains("resource_metadata=", challenge, StringComparison.Ordinal);
        Assert.Contains(reason, await BodyAsync(response), StringComparison.Ordinal);
        Assert.DoesNotContain(token, await BodyAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_scope_allows_read_tools_and_a_write_tool_gets_403_insufficient_scope_naming_the_write_scope()
    {
        var read = Token("quilt.read");
        using (var list = await PostAsync(ToolsList, read))
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using (var ok = await PostAsync(Call("bucket_objects_list", """{"bucket":"auth-bucket"}"""), read))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            var body = await BodyAsync(ok);
            Assert.Contains("a.txt", body, StringComparison.Ordinal);
            Assert.DoesNotContain("\"isError\":true", body, StringComparison.Ordinal);
        }
        using var refused = await PostAsync(Call("bucket_object_delete", """{"uri":"s3://auth-bucket/a.txt"}"""), read);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var challenge = Challenge(refused);
        Assert.Contains("error=\"insufficient_scope\"", challenge, StringComparison.Ordinal);
        Assert.Contains("scope=\"quilt.read quilt.write\"", challenge, StringComparison.Ordinal);
        Assert.Contains("resource_metadata=", challenge, StringComparison.Ordinal);
        Assert.Contains("needs the OAuth scope 'quilt.write'", await BodyAsync(refused), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Join(_root.Path, "auth-bucket", "a.txt")), "the refused delete deleted nothing");
    }

    [Fact]
    public async Task A_write_scope_alone_does_not_allow_read_tools()
    {
        using var refused = await PostAsync(Call("bucket_objects_list", """{"bucket":"auth-bucket"}"""), Token("quilt.write"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("needs the OAuth scope 'quilt.read'", await BodyAsync(refused), StringComparison.Ordinal);
        using var write = await PostAsync(Call("bucket_objects_put", """{"objects":[{"uri":"s3://auth-bucket/b.txt","text":"hi"}]}"""), Token("quilt.write"));
        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        Assert.Equal("hi", await File.ReadAllTextAsync(Path.Join(_root.Path, "auth-bucket", "b.txt"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_call_whose_tool_name_comes_after_large_arguments_is_still_checked_when_it_runs()
    {
        // "arguments" before "name", longer than the part of the body the HTTP check reads: the tool filter refuses it.
        var padding = new string('x', 100 * 1024);
        var json = $$$"""{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"arguments":{"objects":[{"uri":"s3://auth-bucket/c.txt","text":"{{{padding}}}"}]},"name":"bucket_objects_put"}}""";
        using var response = await PostAsync(json, Token("quilt.read"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The answer is one server-sent event carrying the JSON-RPC response.
        var data = (await BodyAsync(response)).Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        var result = JsonDocument.Parse(data).RootElement.GetProperty("result");
        Assert.True(result.GetProperty("isError").GetBoolean());
        Assert.Contains("needs the OAuth scope 'quilt.write'", result.GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Join(_root.Path, "auth-bucket", "c.txt")));
    }

    [Fact]
    public async Task In_registry_mode_the_callers_token_is_exchanged_and_never_forwarded_to_the_registry()
    {
        var ct = TestContext.Current.CancellationToken;
        var http = new HttpSettings
        {
            Urls = ["http://127.0.0.1:0"],
            Auth = new AuthSettings { Issuer = new Uri(_issuer), ExchangeClientId = "quilt-mcp", ExchangeClientSecret = "exchange-secret" },
        };
        var settings = TestData.Settings("auth-bucket") with { Http = http, RegistryUrl = new Uri(_issuer + "/registry") };
        await using var app = QuiltMcpServer.BuildHttpApp(settings, http);
        await app.StartAsync(ct);
        var endpoint = new Uri(QuiltMcpServer.EndpointsOf(app, http).Single());
        var token = Token("quilt.read", audience: endpoint.OriginalString);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(Call("bucket_objects_list", """{"bucket":"auth-bucket"}"""), Encoding.UTF8, "application/json") };
        request.Headers.Add("Accept", "application/json, text/event-stream");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var exchange = Assert.Single(_exchanges);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("quilt-mcp:exchange-secret")), exchange.Authorization);
        Assert.Equal("urn:ietf:params:oauth:grant-type:token-exchange", exchange.Grant);
        Assert.Equal(token, exchange.SubjectToken);
        Assert.NotEmpty(_registryAuthorizations);
        Assert.All(_registryAuthorizations, a => Assert.Equal("Bearer registry-token-for-alice", a));
    }

    [Fact]
    public void Settings_name_what_is_missing()
    {
        ResolvedSettings Resolve(ServeInput input, params (string, string)[] env)
        {
            var variables = env.ToDictionary(e => e.Item1, e => e.Item2);
            return ServerSettingsResolver.Resolve(input with { Connection = input.Connection with { Storage = "local", Root = _root.Path } }, n => variables.GetValueOrDefault(n));
        }
        var ok = Resolve(new ServeInput { Http = true, AuthIssuer = "https://as.example.com" });
        Assert.True(ok.IsValid, string.Join("; ", ok.Errors));
        Assert.Equal(new Uri("https://as.example.com"), ok.Settings!.Http!.Auth!.Issuer);

        Assert.Contains(Resolve(new ServeInput { Http = true, Resource = "https://mcp.example.com/mcp" }).Errors, e => e.Contains("need --auth-issuer", StringComparison.Ordinal));
        Assert.Contains(Resolve(new ServeInput { AuthIssuer = "https://as.example.com" }).Errors, e => e.Contains("HTTP transport only", StringComparison.Ordinal));
        Assert.Contains(Resolve(new ServeInput { Http = true, AuthIssuer = "http://as.example.com" }).Errors, e => e.Contains("not an https URL", StringComparison.Ordinal));
        Assert.Contains(Resolve(new ServeInput { Http = true, AllowRemote = true, Urls = ["http://0.0.0.0:9"], AuthIssuer = "https://as.example.com" }).Errors,
            e => e.Contains("--resource is needed", StringComparison.Ordinal));
        var registry = Resolve(new ServeInput { Http = true, AuthIssuer = "https://as.example.com", Connection = new() { RegistryUrl = "https://registry.example.com" } });
        Assert.Contains(registry.Errors, e => e.Contains(AuthSettingsResolver.ExchangeClientSecretVariable, StringComparison.Ordinal));
        var env = Resolve(new ServeInput { Http = true }, (AuthSettingsResolver.IssuerVariable, "https://as.example.com"), (AuthSettingsResolver.ResourceVariable, "https://mcp.example.com/mcp"));
        Assert.Equal(new Uri("https://mcp.example.com/mcp"), env.Settings!.Http!.Auth!.Resource);
    }
}
