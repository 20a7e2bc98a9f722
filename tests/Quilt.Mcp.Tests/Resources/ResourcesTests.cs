using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Quilt.Core;
using Quilt.Mcp.Resources;
using Quilt.Operations;
using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Tests.Resources;

/// <summary>
/// The MCP resources through an in-process client, on each store: the templates read with the very URIs the tools return,
/// the static resources, resources/list, subscriptions, and get_resource for clients without resource support.
/// </summary>
public abstract class ResourcesTests : IAsyncLifetime
{
    private readonly ToolTestStore _backing;
    private McpHarness? _mcp;
    private IObjectStore _store = null!;
    private string _other = "";

    private protected ResourcesTests(ToolTestStore backing) => _backing = backing;

    private protected string Bucket { get; private set; } = "";
    private McpHarness Mcp => _mcp!;
    private McpClient Client => Mcp.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        (_store, Bucket, _other) = await _backing.OpenAsync();
        _mcp = await StartAsync(TestData.Settings(Bucket, maxInline: 64 * 1024));
    }

    /// <summary>
    /// The server as the product builds it, looking at subscribed resources every 100 ms. The client speaks 2025-11-25,
    /// the newest revision with resources/subscribe (the revision the TypeScript SDK and the MCP Inspector speak).
    /// </summary>
    private async Task<McpHarness> StartAsync(Quilt.Mcp.Configuration.ServerSettings settings, string? protocolVersion = "2025-11-25") =>
        await McpHarness.StartAsync(settings, _store,
            services => services.AddSingleton(new ResourceSubscriptionOptions { PollInterval = TimeSpan.FromMilliseconds(100) }),
            clientOptions: new McpClientOptions { ProtocolVersion = protocolVersion });

    public async ValueTask DisposeAsync()
    {
        if (_mcp is not null)
            await _mcp.DisposeAsync();
        await _backing.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private async Task PutAsync(string bucket, string key, byte[] bytes, string? contentType = null) =>
        await _store.PutAsync(new PutRequest(bucket, key) { ContentType = contentType }, new MemoryStream(bytes), null, Ct);

    private async Task<PackageRevisionResult> CreatePackageAsync(string name, string message, params (string Key, string Text)[] entries)
    {
        var args = JsonSerializer.Serialize(new
        {
            package = name,
            message,
            metadata = new { owner = "ana" },
            sources = entries.Select(e => new { text = e.Text, logicalKey = e.Key }).ToArray(),
            overwrite = true,
        });
        return await Mcp.CallOkAsync<PackageRevisionResult>("package_create", args);
    }

    private async Task<ResourceContents> ReadOneAsync(string uri)
    {
        var result = await Client.ReadResourceAsync(uri, cancellationToken: Ct);
        return Assert.Single(result.Contents);
    }

    private async Task<string> ReadErrorAsync(string uri)
    {
        var e = await Assert.ThrowsAsync<McpProtocolException>(() => Client.ReadResourceAsync(uri, cancellationToken: Ct).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, e.ErrorCode);
        return e.Message;
    }

    private static T Json<T>(ResourceContents contents)
    {
        var text = Assert.IsType<TextResourceContents>(contents);
        Assert.Equal("application/json", text.MimeType);
        return JsonSerializer.Deserialize<T>(text.Text, JsonSerializerOptions.Web)!;
    }

    [Fact]
    public async Task The_templates_cover_objects_entries_and_package_summaries()
    {
        var templates = await Client.ListResourceTemplatesAsync(cancellationToken: Ct);
        Assert.Equal(
            ["quilt+s3://{bucket}#package={+name}", "quilt+s3://{bucket}#package={+name}&path={+key}", "quilt+s3://{bucket}#package={+name}@{hash}",
                "quilt+s3://{bucket}#package={+name}@{hash}&path={+key}", "s3://{bucket}/{+key}"],
            templates.Select(t => t.UriTemplate).Order(StringComparer.Ordinal));
        Assert.All(templates, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
        Assert.True(Client.ServerCapabilities.Resources?.Subscribe);
    }

    [Fact]
    public async Task An_object_read_by_the_uri_bucket_objects_list_returns_is_text_with_its_mime_type_or_a_blob()
    {
        await PutAsync(Bucket, "docs/read me.md", Encoding.UTF8.GetBytes("# Hello\nwörld\n"), "text/markdown");
        var png = TestData.Bytes(3000);
        await PutAsync(Bucket, "img/a.png", png, "image/png");
        var listed = await Mcp.CallOkAsync<ObjectsListResult>("bucket_objects_list", $$"""{"bucket": "{{Bucket}}"}""");
        // The URIs the listing's resource links carry: base + name.
        var mdUri = ObjectUriResolver.FormatUri(listed.Bucket, listed.Prefix + listed.Objects.Single(o => o.Name == "docs/read me.md").Name);
        var pngUri = ObjectUriResolver.FormatUri(listed.Bucket, listed.Prefix + listed.Objects.Single(o => o.Name == "img/a.png").Name);
        Assert.Contains("%20", mdUri, StringComparison.Ordinal);

        var text = Assert.IsType<TextResourceContents>(await ReadOneAsync(mdUri));
        Assert.Equal("# Hello\nwörld\n", text.Text);
        Assert.Equal("text/markdown", text.MimeType);
        Assert.Equal(mdUri, text.Uri);

        var blob = Assert.IsType<BlobResourceContents>(await ReadOneAsync(pngUri));
        Assert.Equal("image/png", blob.MimeType);
        Assert.Equal(png, blob.DecodedData.ToArray());
    }

    [Fact]
    public async Task An_object_over_the_inline_limit_is_refused_naming_the_fetch_tool_with_a_destination()
    {
        await PutAsync(Bucket, "big.txt", TestData.TextBytes(64 * 1024 + 1));
        var message = await ReadErrorAsync($"s3://{Bucket}/big.txt");
        Assert.Contains("inline limit", message, StringComparison.Ordinal);
        Assert.Contains("bucket_object_fetch", message, StringComparison.Ordinal);
        Assert.Contains("'destination'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entries_read_by_the_uris_package_browse_returns_at_the_pinned_and_the_latest_revision()
    {
        var first = await CreatePackageAsync("team/data", "first", ("data/a b.csv", "x,y\n1,2\n"), ("README.md", "v1"));
        var browse = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", """{"package": "team/data", "path": "data"}""");
        // The URI the browse result's resource link carries for the file.
        var pinned = new QuiltUri { Bucket = browse.Registry, PackageName = browse.Package, TopHash = browse.TopHash, Path = browse.Prefix + browse.Files.Single().Name }.ToString();
        Assert.Contains("@" + first.TopHash, pinned, StringComparison.Ordinal);
        Assert.Contains("&path=data/a%20b.csv", pinned, StringComparison.Ordinal);

        var csv = Assert.IsType<TextResourceContents>(await ReadOneAsync(pinned));
        Assert.Equal("x,y\n1,2\n", csv.Text);
        Assert.Equal("text/csv", csv.MimeType);

        await CreatePackageAsync("team/data", "second", ("data/a b.csv", "x,y\n3,4\n"), ("README.md", "v2"));
        // The pinned URI still reads the first revision; the latest form follows latest.
        Assert.Equal("x,y\n1,2\n", Assert.IsType<TextResourceContents>(await ReadOneAsync(pinned)).Text);
        var latest = $"quilt+s3://{Bucket}#package=team/data&path=data/a%20b.csv";
        Assert.Equal("x,y\n3,4\n", Assert.IsType<TextResourceContents>(await ReadOneAsync(latest)).Text);
    }

    [Fact]
    public async Task An_entry_whose_data_no_longer_matches_its_manifest_is_refused()
    {
        var created = await CreatePackageAsync("team/checked", "m", ("table.csv", "a,b\n1,2\n"));
        await PutAsync(Bucket, "team/checked/table.csv", Encoding.UTF8.GetBytes("a,b\n9,2\n"));
        var message = await ReadErrorAsync($"quilt+s3://{Bucket}#package=team/checked@{created.TopHash}&path=table.csv");
        Assert.Contains("does not match", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_package_uri_without_a_path_reads_the_revision_summary()
    {
        var first = await CreatePackageAsync("team/sum", "first cut", ("data/raw/a.csv", "1234"), ("data/b.csv", "56"), ("docs/x.md", "789"), ("README.md", "r"));
        await CreatePackageAsync("team/sum", "second cut", ("README.md", "r2"));

        var summary = Json<PackageSummaryResult>(await ReadOneAsync(first.Uri));
        Assert.Equal(first.TopHash, summary.TopHash);
        Assert.Equal("first cut", summary.Message);
        Assert.Equal("ana", summary.Metadata!.Value.GetProperty("owner").GetString());
        Assert.Equal(4, summary.Entries);
        Assert.Equal(10, summary.Size);
        Assert.Equal(["data/", "docs/"], summary.Folders.Select(f => f.Name));
        Assert.Equal(2, summary.Folders[0].Entries);
        Assert.Equal(6, summary.Folders[0].Size);
        Assert.Equal(1, summary.TopLevelFiles);
        Assert.Equal(["README.md"], summary.TopLevelFileKeys);

        var latest = Json<PackageSummaryResult>(await ReadOneAsync($"quilt+s3://{Bucket}#package=team/sum"));
        Assert.Equal("second cut", latest.Message);
        Assert.Equal(1, latest.Entries);
    }

    [Fact]
    public async Task The_static_resources_say_which_buckets_who_what_limits_and_what_syntax()
    {
        var buckets = Json<ServerBucketsResult>(await ReadOneAsync("quilt-mcp://buckets"));
        Assert.Equal([Bucket], buckets.Buckets.Buckets.Select(b => b.Name));
        Assert.True(buckets.Buckets.Restricted);
        Assert.Contains("write", buckets.Access, StringComparison.Ordinal);

        var identity = Json<ServerIdentityResult>(await ReadOneAsync("quilt-mcp://identity"));
        Assert.Equal("local", identity.Storage);
        Assert.Null(identity.User);

        var limits = Json<ServerLimits>(await ReadOneAsync("quilt-mcp://limits"));
        Assert.Equal(64 * 1024, limits.MaxInlineBytes);
        Assert.Equal(Quilt.Mcp.Configuration.ServerSettings.DefaultMaxTextBytes, limits.MaxTextBytes);
        Assert.Equal(1000, limits.MaxPageSize);
        Assert.False(limits.ReadOnly);
        Assert.Equal(ResourceSubscriptions.MaxSubscriptions, limits.MaxSubscriptions);

        var syntax = Assert.IsType<TextResourceContents>(await ReadOneAsync("quilt-mcp://syntax"));
        Assert.Equal("text/markdown", syntax.MimeType);
        Assert.Contains("quilt+s3://bucket#package=user/name", syntax.Text, StringComparison.Ordinal);

        Assert.Contains("quilt-mcp://limits", await ReadErrorAsync("quilt-mcp://nothing"), StringComparison.Ordinal);
        Assert.Contains("s3://bucket/key", await ReadErrorAsync("https://example.com/x"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resources_list_has_the_static_resources_and_the_registry_packages()
    {
        await CreatePackageAsync("team/one", "m", ("a.txt", "a"));
        var resources = await Client.ListResourcesAsync(cancellationToken: Ct);
        var uris = resources.Select(r => r.Uri).ToList();
        Assert.Equal(["quilt-mcp://buckets", "quilt-mcp://identity", "quilt-mcp://limits", "quilt-mcp://syntax"], uris.Take(4));
        Assert.Contains($"quilt+s3://{Bucket}#package=team/one", uris);
        // What is listed can be read.
        Assert.Equal("m", Json<PackageSummaryResult>(await ReadOneAsync($"quilt+s3://{Bucket}#package=team/one")).Message);
    }

    [Fact]
    public async Task Resources_keep_to_the_bucket_allow_list()
    {
        await PutAsync(_other, "secret.txt", Encoding.UTF8.GetBytes("no"));
        Assert.Contains($"Bucket '{_other}' is not one this server may use", await ReadErrorAsync($"s3://{_other}/secret.txt"), StringComparison.Ordinal);
        Assert.Contains("not one this server may use", await ReadErrorAsync($"quilt+s3://{_other}#package=team/x"), StringComparison.Ordinal);
        Assert.Contains("not one this server may use", await ReadErrorAsync($"quilt+s3://{_other}#package=team/x&path=a"), StringComparison.Ordinal);
        var subscribe = await Assert.ThrowsAsync<McpProtocolException>(() => Client.SubscribeToResourceAsync($"s3://{_other}/secret.txt", cancellationToken: Ct));
        Assert.Contains("not one this server may use", subscribe.Message, StringComparison.Ordinal);
        var tool = await Mcp.CallErrorAsync("get_resource", $$"""{"uri": "s3://{{_other}}/secret.txt"}""");
        Assert.Contains("not one this server may use", tool, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_subscribed_object_notifies_when_it_changes_and_not_after_unsubscribe()
    {
        await PutAsync(Bucket, "watched.txt", Encoding.UTF8.GetBytes("one"));
        var uri = $"s3://{Bucket}/watched.txt";
        var updates = Channel.CreateUnbounded<string>();
        await using (var subscription = await Client.SubscribeToResourceAsync(uri, (n, _) =>
                     {
                         updates.Writer.TryWrite(n.Uri);
                         return ValueTask.CompletedTask;
                     }, cancellationToken: Ct))
        {
            Assert.Equal([uri], Mcp.Services.GetRequiredService<ResourceSubscriptions>().Watched);
            await PutAsync(Bucket, "watched.txt", Encoding.UTF8.GetBytes("two, longer"));
            Assert.Equal(uri, await ReadUpdateAsync(updates.Reader));
        }
        Assert.Empty(Mcp.Services.GetRequiredService<ResourceSubscriptions>().Watched);
    }

    [Fact]
    public async Task A_subscribed_package_notifies_when_latest_moves_and_a_pinned_revision_cannot_be_subscribed()
    {
        var first = await CreatePackageAsync("team/live", "first", ("a.txt", "1"));
        var uri = $"quilt+s3://{Bucket}#package=team/live";
        var updates = Channel.CreateUnbounded<string>();
        await using var subscription = await Client.SubscribeToResourceAsync(uri, (n, _) =>
        {
            updates.Writer.TryWrite(n.Uri);
            return ValueTask.CompletedTask;
        }, cancellationToken: Ct);
        await CreatePackageAsync("team/live", "second", ("a.txt", "2"));
        Assert.Equal(uri, await ReadUpdateAsync(updates.Reader));

        var pinned = await Assert.ThrowsAsync<McpProtocolException>(() => Client.SubscribeToResourceAsync(first.Uri, cancellationToken: Ct));
        Assert.Contains("never changes", pinned.Message, StringComparison.Ordinal);
        var fixedOne = await Assert.ThrowsAsync<McpProtocolException>(() => Client.SubscribeToResourceAsync("quilt-mcp://limits", cancellationToken: Ct));
        Assert.Contains("does not change", fixedOne.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subscriptions_are_bounded()
    {
        for (var i = 0; i < ResourceSubscriptions.MaxSubscriptions; i++)
            await Client.SubscribeToResourceAsync($"s3://{Bucket}/k{i}.txt", cancellationToken: Ct);
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => Client.SubscribeToResourceAsync($"s3://{Bucket}/one-more.txt", cancellationToken: Ct));
        Assert.Contains("Unsubscribe", refused.Message, StringComparison.Ordinal);
        await Client.UnsubscribeFromResourceAsync($"s3://{Bucket}/k0.txt", cancellationToken: Ct);
        await Client.SubscribeToResourceAsync($"s3://{Bucket}/one-more.txt", cancellationToken: Ct);
    }

    [Fact]
    public async Task Get_resource_returns_what_resources_read_returns()
    {
        await PutAsync(Bucket, "t.json", Encoding.UTF8.GetBytes("""{"a": 1}"""), "application/json");
        var png = TestData.Bytes(100);
        await PutAsync(Bucket, "p.png", png, "image/png");

        var text = await Mcp.CallAsync("get_resource", $$"""{"uri": "s3://{{Bucket}}/t.json"}""");
        Assert.False(text.IsError == true, McpHarness.Text(text));
        Assert.Equal("""{"a": 1}""", Assert.IsType<TextContentBlock>(Assert.Single(text.Content)).Text);
        Assert.Equal("application/json", text.StructuredContent!.Value.GetProperty("mimeType").GetString());

        var blob = await Mcp.CallAsync("get_resource", $$"""{"uri": "s3://{{Bucket}}/p.png"}""");
        var embedded = Assert.IsType<EmbeddedResourceBlock>(Assert.Single(blob.Content));
        Assert.Equal(png, Assert.IsType<BlobResourceContents>(embedded.Resource).DecodedData.ToArray());
        Assert.False(blob.StructuredContent!.Value.GetProperty("text").GetBoolean());

        var limits = await Mcp.CallAsync("get_resource", """{"uri": "quilt-mcp://limits"}""");
        var read = Assert.IsType<TextResourceContents>(await ReadOneAsync("quilt-mcp://limits"));
        Assert.Equal(read.Text, Assert.IsType<TextContentBlock>(Assert.Single(limits.Content)).Text);

        Assert.Contains("not a resource this server serves", await Mcp.CallErrorAsync("get_resource", """{"uri": "ftp://x/y"}"""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_only_server_still_reads_resources()
    {
        await PutAsync(Bucket, "r.txt", Encoding.UTF8.GetBytes("read me"));
        await using var readOnly = await StartAsync(TestData.Settings(Bucket, readOnly: true));
        var result = await readOnly.Client.ReadResourceAsync($"s3://{Bucket}/r.txt", cancellationToken: Ct);
        Assert.Equal("read me", Assert.IsType<TextResourceContents>(Assert.Single(result.Contents)).Text);
        var limits = JsonSerializer.Deserialize<ServerLimits>(
            Assert.IsType<TextResourceContents>(Assert.Single((await readOnly.Client.ReadResourceAsync("quilt-mcp://limits", cancellationToken: Ct)).Contents)).Text,
            JsonSerializerOptions.Web)!;
        Assert.True(limits.ReadOnly);
    }

    [Fact]
    public async Task A_client_on_the_newest_protocol_reads_resources_too()
    {
        await PutAsync(Bucket, "n.txt", Encoding.UTF8.GetBytes("newest"));
        await using var newest = await StartAsync(TestData.Settings(Bucket), protocolVersion: null);
        var result = await newest.Client.ReadResourceAsync($"s3://{Bucket}/n.txt", cancellationToken: Ct);
        Assert.Equal("newest", Assert.IsType<TextResourceContents>(Assert.Single(result.Contents)).Text);
        Assert.Contains(await newest.Client.ListResourcesAsync(cancellationToken: Ct), r => r.Uri == "quilt-mcp://limits");
    }

    [Fact]
    public async Task A_client_on_the_newest_protocol_listens_for_resource_updates_and_the_watch_ends_with_the_request()
    {
        await PutAsync(Bucket, "l.txt", Encoding.UTF8.GetBytes("one"));
        await using var newest = await StartAsync(TestData.Settings(Bucket), protocolVersion: null);
        var uri = $"s3://{Bucket}/l.txt";
        var acks = Channel.CreateUnbounded<JsonNode?>();
        var updates = Channel.CreateUnbounded<JsonNode?>();
        await using var onAck = newest.Client.RegisterNotificationHandler(NotificationMethods.SubscriptionsAcknowledgedNotification, (n, _) =>
        {
            acks.Writer.TryWrite(n.Params);
            return ValueTask.CompletedTask;
        });
        await using var onUpdate = newest.Client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
        {
            updates.Writer.TryWrite(n.Params);
            return ValueTask.CompletedTask;
        });
        using var listening = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var listen = newest.Client.SendRequestAsync(new JsonRpcRequest
        {
            Method = RequestMethods.SubscriptionsListen,
            Params = new JsonObject
            {
                ["notifications"] = new JsonObject { ["resourceSubscriptions"] = new JsonArray(uri, "quilt-mcp://limits"), ["toolsListChanged"] = true },
            },
        }, listening.Token);

        // Granted: the object; not the limits (they never change), nor tools/list_changed (the list never changes).
        var ack = (await ReadUpdateAsync(acks.Reader))!;
        Assert.Equal([uri], ack["notifications"]!["resourceSubscriptions"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Null(ack["notifications"]!["toolsListChanged"]);
        await PutAsync(Bucket, "l.txt", Encoding.UTF8.GetBytes("two, longer"));
        var update = (await ReadUpdateAsync(updates.Reader))!;
        Assert.Equal(uri, update["uri"]!.GetValue<string>());
        Assert.NotNull(update["_meta"]?[MetaKeys.SubscriptionId]);

        var subscriptions = newest.Services.GetRequiredService<ResourceSubscriptions>();
        Assert.Single(subscriptions.Watched);
        await listening.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listen);
        for (var i = 0; i < 500 && subscriptions.Watched.Count > 0; i++)
            await Task.Delay(10, Ct);
        Assert.Empty(subscriptions.Watched);
    }

    /// <summary>The next notification; the server looks every 100 ms, so a generous bound only guards against a hang.</summary>
    private static async Task<T> ReadUpdateAsync<T>(ChannelReader<T> updates)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        return await updates.ReadAsync(timeout.Token);
    }
}

public sealed class LocalResourcesTests() : ResourcesTests(new LocalToolTestStore("res-bucket"));

// Unversioned: a package entry overwritten in place is then really other bytes (a versioned bucket keeps the revision's version).
public sealed class S3ResourcesTests() : ResourcesTests(new S3ToolTestStore(versioned: false));
