using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Mcp.Models;
using Quilt.Mcp.Resources;
using Quilt.Operations.Models;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>
/// The MCP server in registry mode (one Quilt JWT, no AWS credentials), driven by an in-process client against the real
/// gateway: resources of objects and package entries, subscriptions that see a change made through the gateway, the
/// package_list details and package_link.
/// </summary>
public sealed class RegistryMcpTests(RegistryFixture fx) : IAsyncLifetime
{
    private const string Catalog = "catalog.example.com";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _folder = $"mcp-{Guid.NewGuid():N}"[..16];
    private InProcessMcpServer _server = null!;
    private McpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        var settings = new ServerSettings
        {
            Storage = new Quilt.Storage.StorageSettings(),
            RegistryUrl = fx.Gateway,
            RegistryToken = new FixedRegistryToken(fx.Token("writer")),
            CatalogHost = Catalog,
        };
        // Subscribed resources are looked at every 100 ms (the product's default is slower).
        _server = InProcessMcpServer.Start((services, input, output) =>
            services.AddSingleton(new ResourceSubscriptionOptions { PollInterval = TimeSpan.FromMilliseconds(100) })
                .AddQuiltMcpServer(settings).WithStreamServerTransport(input, output));
        _client = await _server.ConnectAsync(new McpClientOptions { ProtocolVersion = "2025-11-25" }, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<T> CallOkAsync<T>(string tool, string argumentsJson)
    {
        var result = await _client.CallToolWithJsonAsync(tool, argumentsJson, null, Ct);
        Assert.False(result.IsError == true, $"{tool} failed: {McpClientJson.Text(result)}");
        return (T)result.StructuredContent!.Value.Deserialize(ToolJson.Options.GetTypeInfo(typeof(T)))!;
    }

    /// <summary>Writes an object through the gateway (bucket_objects_put in registry mode).</summary>
    private async Task PutAsync(string key, string text) =>
        await CallOkAsync<ObjectsPutResult>("bucket_objects_put",
            JsonSerializer.Serialize(new { objects = new[] { new { uri = $"s3://{fx.Data}/{key}", text } } }));

    /// <summary>A package of the objects under the test's folder, referenced in place (as registry mode publishes).</summary>
    private async Task<PackageRevisionResult> PublishAsync(string name, string message, object metadata, params string[] keys) =>
        await CallOkAsync<PackageRevisionResult>("package_create", JsonSerializer.Serialize(new
        {
            package = name,
            registry = fx.Data,
            message,
            metadata,
            sources = keys.Select(k => new { uri = $"s3://{fx.Data}/{_folder}/{k}", logicalKey = k }).ToArray(),
            overwrite = true,
        }));

    private static string NewPackage() => $"mcp/p{Guid.NewGuid():N}"[..16];

    [Fact]
    public async Task Search_packages_and_objects_go_through_the_registrys_own_search()
    {
        // A word no other test writes: what the gateway indexed from this upload and this packageConstruct only.
        var word = $"zq{Guid.NewGuid():N}"[..14];
        await PutAsync($"{_folder}/notes.md", $"field notes about {word}");
        var name = NewPackage();
        var revision = await PublishAsync(name, $"run with {word}", new { project = "atlas" }, "notes.md");

        var packages = await CallOkAsync<Quilt.Operations.Search.PackageSearchResult>("search_packages",
            JsonSerializer.Serialize(new { query = $"comment:{word}", buckets = new[] { fx.Data } }));
        var hit = Assert.Single(packages.Hits);
        Assert.Equal(name, hit.Package);
        Assert.Contains(revision.TopHash, hit.Uri, StringComparison.Ordinal);
        Assert.StartsWith($"quilt+s3://{fx.Data}#package={name}", hit.Uri, StringComparison.Ordinal);

        var objects = await CallOkAsync<Quilt.Operations.Search.ObjectSearchResult>("search_objects",
            JsonSerializer.Serialize(new { query = word, buckets = new[] { fx.Data } }));
        // Pinned to the version the gateway indexed (the bucket is versioned).
        Assert.StartsWith($"s3://{fx.Data}/{_folder}/notes.md?versionId=", Assert.Single(objects.Hits).Uri, StringComparison.Ordinal);

        // A bad search string is the registry's InvalidInput, told as a tool error naming the problem.
        var bad = await _client.CallToolWithJsonAsync("search_packages", """{"query": "\"unclosed"}""", null, Ct);
        Assert.True(bad.IsError);
        Assert.Contains("quote", McpClientJson.Text(bad), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Objects_and_package_entries_read_as_resources_through_the_gateway()
    {
        await fx.PutRawAsync($"{_folder}/notes.md", Encoding.UTF8.GetBytes("# Notes\nwörld\n"), "text/markdown");
        var png = Enumerable.Range(0, 3000).Select(i => (byte)(i * 31 % 256)).ToArray();
        await fx.PutRawAsync($"{_folder}/img.png", png, "image/png");

        var text = Assert.IsType<TextResourceContents>(Assert.Single((await _client.ReadResourceAsync($"s3://{fx.Data}/{_folder}/notes.md", cancellationToken: Ct)).Contents));
        Assert.Equal(("# Notes\nwörld\n", "text/markdown"), (text.Text, text.MimeType));
        var blob = Assert.IsType<BlobResourceContents>(Assert.Single((await _client.ReadResourceAsync($"s3://{fx.Data}/{_folder}/img.png", cancellationToken: Ct)).Contents));
        Assert.Equal("image/png", blob.MimeType);
        Assert.Equal(png, blob.DecodedData.ToArray());

        var name = NewPackage();
        var revision = await PublishAsync(name, "first", new { owner = "ana" }, "notes.md", "img.png");
        var entry = Assert.IsType<TextResourceContents>(Assert.Single(
            (await _client.ReadResourceAsync($"quilt+s3://{fx.Data}#package={name}@{revision.TopHash}&path=notes.md", cancellationToken: Ct)).Contents));
        Assert.Equal("# Notes\nwörld\n", entry.Text);
        var image = Assert.IsType<BlobResourceContents>(Assert.Single(
            (await _client.ReadResourceAsync($"quilt+s3://{fx.Data}#package={name}&path=img.png", cancellationToken: Ct)).Contents));
        Assert.Equal(png, image.DecodedData.ToArray());

        // Without a path: the revision's summary.
        var summary = Assert.IsType<TextResourceContents>(Assert.Single((await _client.ReadResourceAsync(revision.Uri, cancellationToken: Ct)).Contents));
        var parsed = JsonSerializer.Deserialize<PackageSummaryResult>(summary.Text, JsonSerializerOptions.Web)!;
        Assert.Equal((revision.TopHash, "first", 2), (parsed.TopHash, parsed.Message, parsed.Entries));
    }

    [Fact]
    public async Task A_subscribed_object_and_package_notify_when_changed_through_the_gateway()
    {
        await PutAsync($"{_folder}/watched.txt", "one");
        await fx.PutRawAsync($"{_folder}/more.txt", Encoding.UTF8.GetBytes("more"), "text/plain");
        var name = NewPackage();
        await PublishAsync(name, "first", new { }, "watched.txt");
        var objectUri = $"s3://{fx.Data}/{_folder}/watched.txt";
        var packageUri = $"quilt+s3://{fx.Data}#package={name}";
        var updates = Channel.CreateUnbounded<string>();
        ValueTask Updated(ResourceUpdatedNotificationParams n, CancellationToken _)
        {
            updates.Writer.TryWrite(n.Uri);
            return ValueTask.CompletedTask;
        }
        await using var onObject = await _client.SubscribeToResourceAsync(objectUri, Updated, cancellationToken: Ct);
        await using var onPackage = await _client.SubscribeToResourceAsync(packageUri, Updated, cancellationToken: Ct);

        await PutAsync($"{_folder}/watched.txt", "two, and longer");
        Assert.Equal(objectUri, await NextAsync(updates.Reader));

        await CallOkAsync<PackageRevisionResult>("package_patch", JsonSerializer.Serialize(new { package = name, registry = fx.Data, message = "second", add = new[] { new { uri = $"s3://{fx.Data}/{_folder}/more.txt", logicalKey = "more.txt" } } }));
        Assert.Equal(packageUri, await NextAsync(updates.Reader));
    }

    [Fact]
    public async Task Package_list_shows_the_latest_revisions_message_time_metadata_entries_and_size()
    {
        await fx.PutRawAsync($"{_folder}/a.csv", Encoding.UTF8.GetBytes("x,y\n1,2\n"), "text/csv");
        await fx.PutRawAsync($"{_folder}/b.txt", Encoding.UTF8.GetBytes("hello"), "text/plain");
        var name = NewPackage();
        await PublishAsync(name, "old", new { stage = "raw" }, "a.csv");
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        var latest = await PublishAsync(name, "the latest", new { stage = "clean", owner = "bo" }, "a.csv", "b.txt");

        var list = await CallOkAsync<PackageNameList>("package_list", JsonSerializer.Serialize(new { registry = fx.Data, filter = name }));
        var item = Assert.Single(list.Packages);
        Assert.Equal((name, latest.TopHash, "the latest"), (item.Name, item.TopHash, item.Message));
        Assert.Equal((2, 13L), (item.Entries, item.Size));
        Assert.Equal("clean", item.Metadata!.Value.GetProperty("stage").GetString());
        Assert.Equal("bo", item.Metadata.Value.GetProperty("owner").GetString());
        Assert.False(item.MetadataTruncated);
        Assert.NotNull(item.Time);
        Assert.InRange(item.Time.Value, before, DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Null(item.Note);
    }

    [Fact]
    public async Task Package_link_pins_the_revision_gives_the_catalog_page_and_a_download_that_works()
    {
        await fx.PutRawAsync($"{_folder}/data/table.csv", Encoding.UTF8.GetBytes("a,b\n1,2\n"), "text/csv");
        var name = NewPackage();
        var revision = await CallOkAsync<PackageRevisionResult>("package_create", JsonSerializer.Serialize(new
        {
            package = name,
            registry = fx.Data,
            message = "linked",
            sources = new[] { new { uri = $"s3://{fx.Data}/{_folder}/data/table.csv", logicalKey = "data/table.csv" } },
        }));

        var whole = await CallOkAsync<PackageLinkResult>("package_link", JsonSerializer.Serialize(new { package = name, registry = fx.Data }));
        Assert.Equal(revision.TopHash, whole.TopHash);
        Assert.Equal($"quilt+s3://{fx.Data}#package={name}@{revision.TopHash}", whole.Uri);
        Assert.StartsWith($"https://{Catalog}/b/{fx.Data}/packages/{name}/tree/{revision.TopHash}", whole.CatalogUrl, StringComparison.Ordinal);
        Assert.Null(whole.Download);

        var entry = await CallOkAsync<PackageLinkResult>("package_link",
            JsonSerializer.Serialize(new { package = $"quilt+s3://{fx.Data}#package={name}", path = "data/table.csv", expiresInSeconds = 600 }));
        Assert.Equal($"quilt+s3://{fx.Data}#package={name}@{revision.TopHash}&path=data/table.csv", entry.Uri);
        Assert.NotNull(entry.Download);
        Assert.InRange(entry.Download.ExpiresAt, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(601));
        // The download URL needs no credentials: a plain GET, as a person's browser would do.
        using var http = new HttpClient();
        Assert.Equal("a,b\n1,2\n", await http.GetStringAsync(new Uri(entry.Download.Url), Ct));
    }

    /// <summary>The next notification; the server looks every 100 ms, so the bound only guards against a hang.</summary>
    private static async Task<string> NextAsync(ChannelReader<string> updates)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        return await updates.ReadAsync(timeout.Token);
    }
}
