using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>
/// Registry mode's parity with Quilt's API, through the MCP server (stdio's single token) in front of quilt-gateway:
/// API keys as the token, package_revision_delete (packageRevisionDelete), package_promote (packagePromote),
/// buckets_list with the role's grants, role_switch (switchRole), and refusals that say which role would allow an
/// action and ask for a new token only when one would help.
/// </summary>
public sealed class RegistryParityTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Session(InProcessMcpServer server, McpClient client) : IAsyncDisposable
    {
        public async Task<CallToolResult> CallAsync(string tool, Dictionary<string, object?>? arguments = null) =>
            await client.CallToolAsync(tool, arguments ?? [], cancellationToken: Ct);

        public async Task<JsonElement> OkAsync(string tool, Dictionary<string, object?>? arguments = null)
        {
            var result = await CallAsync(tool, arguments);
            Assert.True(result.IsError != true, $"{tool}: {TextOf(result)}");
            return result.StructuredContent!.Value;
        }

        public async Task<string> ErrorAsync(string tool, Dictionary<string, object?>? arguments = null)
        {
            var result = await CallAsync(tool, arguments);
            Assert.True(result.IsError == true, $"{tool} should fail: {TextOf(result)}");
            return TextOf(result);
        }

        public async ValueTask DisposeAsync() => await server.DisposeAsync();
    }

    private static string TextOf(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private async Task<Session> StartAsync(string token)
    {
        var settings = new ServerSettings
        {
            Storage = new Quilt.Storage.StorageSettings(),
            RegistryUrl = fx.Gateway,
            RegistryToken = new FixedRegistryToken(token),
        };
        var server = InProcessMcpServer.Start((services, input, output) => services.AddQuiltMcpServer(settings).WithStreamServerTransport(input, output));
        return new Session(server, await server.ConnectAsync(cancellationToken: Ct));
    }

    private static string NewName(string prefix) => $"team/{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 17)];

    private static Dictionary<string, object?> Inline(string package, string registry, string key, string text, bool overwrite = false) => new()
    {
        ["package"] = package,
        ["registry"] = registry,
        ["sources"] = new[] { new Dictionary<string, object?> { ["text"] = text, ["logicalKey"] = key } },
        ["message"] = "m " + text,
        ["overwrite"] = overwrite,
    };

    [Fact]
    public async Task A_quilt_api_key_is_the_token_and_a_revoked_one_asks_for_a_new_key_not_a_sign_in()
    {
        var jwt = fx.Token("writer", $"key-{Guid.NewGuid():N}"[..16]);
        var created = await fx.StoreWithToken(jwt).Client.ExecuteAsync(
            "mutation { apiKeyCreate(input: { name: \"mcp\" }) { __typename ... on APIKeyCreated { secret apiKey { id } } } }", null, "create a key", Ct);
        var secret = created["apiKeyCreate"]!["secret"]!.GetValue<string>();
        Assert.StartsWith("qk_", secret, StringComparison.Ordinal);

        await using (var session = await StartAsync(secret))
        {
            var buckets = await session.OkAsync("buckets_list");
            Assert.Equal("writer", buckets.GetProperty("role").GetString());
            // The API key is passed as Quilt's registry expects it (Authorization: Bearer qk_…) and acts as its user.
            var name = NewName("k");
            await session.OkAsync("package_create", Inline(name, fx.Data, "a.txt", "from a key"));

            await fx.StoreWithToken(jwt).Client.ExecuteAsync("mutation($s: String) { apiKeyRevoke(secret: $s) { __typename } }",
                new JsonObject { ["s"] = secret }, "revoke the key", Ct);
            var refused = await session.ErrorAsync("package_revisions", new() { ["package"] = name, ["registry"] = fx.Data });
            Assert.Contains("create a new one", refused, StringComparison.Ordinal);
            Assert.DoesNotContain("sign in again", refused, StringComparison.Ordinal);
            Assert.DoesNotContain(secret[3..], refused, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_token_without_a_role_is_told_to_ask_for_one_not_to_sign_in_again()
    {
        await using var session = await StartAsync(fx.Token("no-such-role", $"norole-{Guid.NewGuid():N}"[..19]));
        var refused = await session.ErrorAsync("buckets_list");
        Assert.Contains("no role is granted", refused, StringComparison.Ordinal);
        Assert.Contains("Ask this gateway's admin for a role", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("sign in", refused, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Package_revision_delete_goes_through_the_registry_and_the_last_revision_takes_the_package()
    {
        var name = NewName("d");
        var subject = $"deleter-{Guid.NewGuid():N}"[..20];
        await using var writer = await StartAsync(fx.Token("writer", subject));
        var first = (await writer.OkAsync("package_create", Inline(name, fx.Data, "a.txt", "one"))).GetProperty("topHash").GetString()!;
        var second = (await writer.OkAsync("package_create", Inline(name, fx.Data, "a.txt", "two", overwrite: true))).GetProperty("topHash").GetString()!;

        // A reader may not: the refusal says why, and that none of its roles may.
        await using (var reader = await StartAsync(fx.Token("reader")))
        {
            var refused = await reader.ErrorAsync("package_revision_delete", new() { ["package"] = name, ["registry"] = fx.Data, ["topHash"] = second });
            Assert.Contains("may not write", refused, StringComparison.Ordinal);
            Assert.Contains("None of your roles may", refused, StringComparison.Ordinal);
        }

        var deleted = await writer.OkAsync("package_revision_delete", new() { ["package"] = name, ["registry"] = fx.Data, ["topHash"] = second[..10] });
        Assert.Equal(second, deleted.GetProperty("topHash").GetString());
        Assert.Equal(first, deleted.GetProperty("latest").GetString());
        var history = await writer.OkAsync("package_revisions", new() { ["package"] = name, ["registry"] = fx.Data });
        Assert.Equal([first], history.GetProperty("revisions").EnumerateArray().Select(r => r.GetProperty("topHash").GetString()));

        var last = await writer.OkAsync("package_revision_delete", new() { ["package"] = name, ["registry"] = fx.Data, ["topHash"] = first });
        Assert.Equal(JsonValueKind.Null, last.GetProperty("latest").ValueKind);
        await writer.ErrorAsync("package_revisions", new() { ["package"] = name, ["registry"] = fx.Data });
        Assert.Equal(2, (await fx.AuditedActionsAsync(subject)).Count(a => a == "packageRevisionDelete"));
    }

    [Fact]
    public async Task Package_promote_copies_a_revision_and_its_data_to_another_bucket_through_packagePromote()
    {
        var name = NewName("p");
        await using var writer = await StartAsync(fx.Token("writer"));
        var source = await writer.OkAsync("package_create", Inline(name, fx.Data, "data/a.txt", "promote me"));
        var sourceHash = source.GetProperty("topHash").GetString()!;

        var promoted = await writer.OkAsync("package_promote", new()
        {
            ["package"] = $"quilt+s3://{fx.Data}#package={name}@{sourceHash}",
            ["to"] = fx.Promoted,
            ["message"] = "promoted",
        });
        Assert.Equal(fx.Promoted, promoted.GetProperty("registry").GetString());
        var promotedHash = promoted.GetProperty("topHash").GetString()!;

        // The new revision's entries point at copies in the destination bucket, with the same bytes and hashes.
        var registry = RegistryFixture.RegistryOf(fx.Store("writer"), fx.Promoted);
        var (hash, manifest) = await registry.BrowseAsync(name, null, Ct);
        Assert.Equal(promotedHash, hash);
        Assert.Equal("promoted", manifest.Message);
        var entry = Assert.Single(manifest.Entries);
        Assert.StartsWith($"s3://{fx.Promoted}/{name}/data/a.txt", entry.PhysicalKey, StringComparison.Ordinal);
        var text = await writer.CallAsync("package_entry_text", new() { ["package"] = $"quilt+s3://{fx.Promoted}#package={name}", ["path"] = "data/a.txt" });
        Assert.Contains("promote me", TextOf(text), StringComparison.Ordinal);

        // A reader may read the source but write nowhere: refused with the reason, nothing published.
        await using var reader = await StartAsync(fx.Token("reader"));
        var refused = await reader.ErrorAsync("package_promote", new() { ["package"] = name, ["registry"] = fx.Data, ["to"] = fx.Data, ["name"] = NewName("q") });
        Assert.Contains("may not write", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Buckets_list_reports_registry_storage_the_role_and_where_it_may_read_and_write()
    {
        await using (var limited = await StartAsync(fx.Token("limited")))
        {
            var buckets = await limited.OkAsync("buckets_list");
            Assert.Equal("registry", buckets.GetProperty("storage").GetString());
            Assert.Equal("limited", buckets.GetProperty("role").GetString());
            var data = buckets.GetProperty("buckets").EnumerateArray().Single(b => b.GetProperty("name").GetString() == fx.Data);
            Assert.Equal(["limited/"], data.GetProperty("read").EnumerateArray().Select(p => p.GetString()));
            Assert.Empty(data.GetProperty("write").EnumerateArray());
        }
        await using var writer = await StartAsync(fx.Token("writer"));
        var all = await writer.OkAsync("buckets_list");
        var promoted = all.GetProperty("buckets").EnumerateArray().Single(b => b.GetProperty("name").GetString() == fx.Promoted);
        Assert.Equal([""], promoted.GetProperty("write").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task Role_switch_lists_the_roles_switches_among_them_and_a_refusal_names_the_role_that_may()
    {
        var subject = $"switch-{Guid.NewGuid():N}"[..19];
        await using var session = await StartAsync(fx.Token(["reader", "writer"], subject));
        var roles = await session.OkAsync("role_switch");
        Assert.Equal("reader", roles.GetProperty("role").GetString());
        Assert.Equal(["reader", "writer"], roles.GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Order(StringComparer.Ordinal));
        Assert.False(roles.GetProperty("switched").GetBoolean());

        // As reader a write is refused, naming the role that would allow it, and no new token is asked for.
        var put = new Dictionary<string, object?> { ["objects"] = new[] { new Dictionary<string, object?> { ["uri"] = $"s3://{fx.Data}/switch/{subject}.txt", ["text"] = "x" } } };
        var refused = await session.ErrorAsync("bucket_objects_put", put);
        Assert.Contains("Your role 'writer' may", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("sign in", refused, StringComparison.OrdinalIgnoreCase);

        var switched = await session.OkAsync("role_switch", new() { ["role"] = "writer" });
        Assert.Equal("writer", switched.GetProperty("role").GetString());
        Assert.True(switched.GetProperty("switched").GetBoolean());
        await session.OkAsync("bucket_objects_put", put);

        var notGranted = await session.ErrorAsync("role_switch", new() { ["role"] = "limited" });
        Assert.Contains("not granted", notGranted, StringComparison.Ordinal);
        Assert.Contains("reader", notGranted, StringComparison.Ordinal);
    }
}
