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
/// A second gateway for one test, with options of its own (the shared fixture's, changed by the test) and optionally
/// its own clock; it trusts the same tokens as the shared one and stops when disposed.
/// </summary>
public sealed class ExtraGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GatewayFixture _gateway;

    private ExtraGateway(WebApplication app, GatewayFixture gateway, GatewayOptions options)
    {
        _app = app;
        _gateway = gateway;
        Options = options;
        BaseUrl = new Uri(GatewayHost.Addresses(app).Single());
    }

    public Uri BaseUrl { get; }

    public GatewayOptions Options { get; }

    public IAuditStore AuditStore => _app.Services.GetRequiredService<IAuditStore>();

    public IStateStore StateStore => _app.Services.GetRequiredService<IStateStore>();

    public static async Task<ExtraGateway> StartAsync(GatewayFixture gateway, TempDirectory dir, Action<GatewayOptions> configure, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(configure);
        var ct = TestContext.Current.CancellationToken;
        var jwks = dir.Combine("jwks.json");
        if (!File.Exists(jwks))
            await File.WriteAllTextAsync(jwks, gateway.Tokens.Jwks(), ct);
        var options = gateway.CreateOptions(jwks, dir.Combine($"{Guid.NewGuid():N}.db"));
        configure(options);
        var app = await GatewayHost.BuildAsync(options, l => l.ClearProviders(), time, ct);
        await app.StartAsync(ct);
        return new ExtraGateway(app, gateway, options);
    }

    /// <summary>Runs an operation that must succeed without GraphQL errors; returns "data".</summary>
    public async Task<JsonNode> DataAsync(string token, string query, object? variables = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "/graphql")) { Content = JsonContent.Create(new { query, variables }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)) ?? new JsonObject();
        Assert.True(response.IsSuccessStatusCode && body["errors"] is null, $"HTTP {(int)response.StatusCode}: {body.ToJsonString()}");
        return body["data"]!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>The system clock moved by an offset the test sets: for expiry, without waiting.</summary>
public sealed class ShiftedClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
