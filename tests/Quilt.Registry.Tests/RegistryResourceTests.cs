using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Operations.Models;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>The MCP server in registry mode (over stdio's single token): the identity and bucket resources come from the registry, for the caller's role.</summary>
public sealed class RegistryResourceTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<T> ReadAsync<T>(string role, string uri, string subject)
    {
        var token = fx.Token(role, subject);
        var settings = new ServerSettings
        {
            Storage = new Quilt.Storage.StorageSettings(),
            RegistryUrl = fx.Gateway,
            RegistryToken = new FixedRegistryToken(token),
        };
        await using var server = InProcessMcpServer.Start((services, input, output) =>
            services.AddQuiltMcpServer(settings).WithStreamServerTransport(input, output));
        var client = await server.ConnectAsync(cancellationToken: Ct);
        var read = await client.ReadResourceAsync(uri, cancellationToken: Ct);
        var text = Assert.IsType<TextResourceContents>(Assert.Single(read.Contents));
        // What a resource shows is never the token it acts with.
        Assert.DoesNotContain(token.Split('.')[2], text.Text, StringComparison.Ordinal);
        return JsonSerializer.Deserialize<T>(text.Text, JsonSerializerOptions.Web)!;
    }

    [Fact]
    public async Task The_identity_resource_names_the_registry_user_and_role()
    {
        var identity = await ReadAsync<ServerIdentityResult>("limited", "quilt-mcp://identity", "ana-limited");
        Assert.Equal("registry", identity.Storage);
        Assert.Equal(fx.Gateway.AbsoluteUri, identity.Location);
        Assert.NotNull(identity.User);
        Assert.Equal("ana-limited@example.test", identity.User.Email);
        Assert.Equal("limited", identity.User.Role);
        Assert.Contains("limited", identity.User.Roles);
    }

    [Fact]
    public async Task The_buckets_resource_lists_what_the_role_may_read_and_names_the_role()
    {
        var buckets = await ReadAsync<ServerBucketsResult>("writer", "quilt-mcp://buckets", "bo-writer");
        Assert.Equal(new[] { fx.Data, fx.Workflows, fx.Promoted }.Order(StringComparer.Ordinal), buckets.Buckets.Buckets.Select(b => b.Name).Order(StringComparer.Ordinal));
        Assert.Equal("writer", buckets.Role);
        Assert.Contains("role", buckets.Access, StringComparison.Ordinal);

        var limited = await ReadAsync<ServerBucketsResult>("limited", "quilt-mcp://buckets", "cy-limited");
        Assert.Equal([fx.Data], limited.Buckets.Buckets.Select(b => b.Name));
        Assert.Equal("limited", limited.Role);
    }
}
