using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Testing;

namespace Quilt.Gateway.Tests;

/// <summary>
/// A gateway of its own for a test that needs other settings than the shared one (its own SQLite file, limits, logs or
/// clock), with the shared fixture's roles, keys and buckets.
/// </summary>
public sealed class GatewayInstance : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private GatewayInstance(TempDirectory dir, WebApplication app, GatewayOptions options, HttpClient http)
    {
        _dir = dir;
        _app = app;
        _http = http;
        Options = options;
        BaseUrl = new Uri(GatewayHost.Addresses(app).Single());
    }

    public GatewayOptions Options { get; }
    public Uri BaseUrl { get; }
    public IServiceProvider Services => _app.Services;
    public IAuditStore AuditStore => _app.Services.GetRequiredService<IAuditStore>();
    public IStateStore StateStore => _app.Services.GetRequiredService<IStateStore>();

    public static async Task<GatewayInstance> StartAsync(GatewayFixture shared, Action<GatewayOptions>? configure = null,
        ILoggerProvider? logs = null, TimeProvider? time = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = new TempDirectory("quilt-gateway-instance");
        try
        {
            var jwks = dir.Combine("jwks.json");
            await File.WriteAllTextAsync(jwks, shared.Tokens.Jwks(), ct);
            var options = shared.CreateOptions(jwks, dir.Combine("gateway.db"));
            configure?.Invoke(options);
            var app = await GatewayHost.BuildAsync(options, logging =>
            {
                logging.ClearProviders();
                if (logs is not null)
                {
                    logging.SetMinimumLevel(LogLevel.Trace);
                    logging.AddProvider(logs);
                }
            }, time, ct);
            await app.StartAsync(ct);
            return new GatewayInstance(dir, app, options, shared.Http);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Sends a request to this instance, with a bearer token when given.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, string? token = null, HttpContent? content = null) =>
        SendCoreAsync(method, pathAndQuery, token, content, TestContext.Current.CancellationToken);

    /// <summary>Runs a GraphQL operation; returns the HTTP status and the JSON body.</summary>
    public async Task<(System.Net.HttpStatusCode Status, JsonNode Body)> GraphQLAsync(string? token, string query, object? variables, string pathAndQuery,
        CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(HttpMethod.Post, pathAndQuery, token, JsonContent.Create(new { query, variables }), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return (response.StatusCode, JsonNode.Parse(text) ?? new JsonObject());
    }

    /// <summary>Runs an operation that must succeed without GraphQL errors; returns "data".</summary>
    public async Task<JsonNode> DataAsync(string token, string query, object? variables = null)
    {
        var (status, body) = await GraphQLAsync(token, query, variables, "/graphql", TestContext.Current.CancellationToken);
        Assert.True((int)status is >= 200 and < 300 && body["errors"] is null, $"HTTP {(int)status}: {body.ToJsonString()}");
        return body["data"]!;
    }

    private async Task<HttpResponseMessage> SendCoreAsync(HttpMethod method, string pathAndQuery, string? token, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(BaseUrl, pathAndQuery)) { Content = content };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _http.SendAsync(request, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>The system clock moved by an offset the test sets: for expiry, without waiting.</summary>
public sealed class ShiftedClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
