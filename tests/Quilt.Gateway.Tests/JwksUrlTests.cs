using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Identity;

namespace Quilt.Gateway.Tests;

/// <summary>Keys from an identity provider's JWKS URL (served here by a small loopback server).</summary>
public sealed class JwksUrlTests
{
    [Fact]
    public async Task Keys_are_read_from_a_jwks_url_and_tokens_from_other_keys_are_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        using var tokens = new Tokens();
        var jwks = tokens.Jwks();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var idp = builder.Build();
        idp.MapGet("/jwks.json", () => Results.Text(jwks, "application/json"));
        await idp.StartAsync(ct);
        var url = new Uri(new Uri(GatewayHost.Addresses(idp).Single()), "/jwks.json");

        var options = new GatewayOptions
        {
            Jwt = new JwtOptions { Issuers = [Tokens.Issuer], Audiences = [Tokens.Audience], JwksUrl = url.AbsoluteUri },
        };
        options.Roles["reader"] = new RoleOptions { Grants = [new GrantOptions { Bucket = "abc", Read = true }] };
        using var authenticator = new JwtAuthenticator(options, NullLogger<JwtAuthenticator>.Instance);
        await authenticator.InitializeAsync(ct);

        var ok = await authenticator.AuthenticateAsync("Bearer " + tokens.Es256("carol", "reader"), ct);
        Assert.True(ok.Succeeded, ok.Reason);
        Assert.Equal("carol", ok.User!.Subject);
        var unknown = await authenticator.AuthenticateAsync("Bearer " + tokens.UnknownKey("carol", "reader"), ct);
        Assert.False(unknown.Succeeded);
        Assert.Contains("unknown key", unknown.Reason, StringComparison.Ordinal);
        // No HS256 secret is configured, so HS256 tokens are not accepted at all.
        var hs = await authenticator.AuthenticateAsync("Bearer " + tokens.Hs256("carol", "reader"), ct);
        Assert.False(hs.Succeeded);
        Assert.Contains("HS256", hs.Reason, StringComparison.Ordinal);

        await idp.StopAsync(ct);
    }

    [Fact]
    public async Task An_unreachable_jwks_url_stops_the_start_with_a_clear_message()
    {
        var options = new GatewayOptions { Jwt = new JwtOptions { Issuers = ["i"], Audiences = ["a"], JwksUrl = "http://127.0.0.1:1/jwks.json" } };
        using var authenticator = new JwtAuthenticator(options, NullLogger<JwtAuthenticator>.Instance);
        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() => authenticator.InitializeAsync(TestContext.Current.CancellationToken));
        Assert.Contains("jwt.jwksUrl", ex.Message, StringComparison.Ordinal);
    }
}
