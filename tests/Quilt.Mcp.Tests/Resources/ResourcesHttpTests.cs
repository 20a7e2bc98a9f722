using System.Text;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests.Resources;

/// <summary>Resources over stateless Streamable HTTP: read as over stdio; subscriptions neither advertised nor accepted, since nothing could notify.</summary>
public sealed class ResourcesHttpTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Over_stateless_http_resources_read_and_subscribe_is_refused_saying_why()
    {
        Directory.CreateDirectory(Path.Join(_root.Path, "web-bucket"));
        await File.WriteAllTextAsync(Path.Join(_root.Path, "web-bucket", "a.txt"), "over http", TestContext.Current.CancellationToken);
        var http = new HttpSettings { Urls = ["http://127.0.0.1:0"] };
        var settings = TestData.Settings("web-bucket") with { Http = http };
        var store = new LocalFolderStore(_root.Path);
        await using var app = QuiltMcpServer.BuildHttpApp(settings, http, storeFactory: _ => store);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var endpoint = new Uri(QuiltMcpServer.EndpointsOf(app, http).Single());
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }),
            new McpClientOptions { ProtocolVersion = "2025-11-25" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotNull(client.ServerCapabilities.Resources);
        Assert.NotEqual(true, client.ServerCapabilities.Resources.Subscribe);
        var read = await client.ReadResourceAsync("s3://web-bucket/a.txt", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("over http", Assert.IsType<TextResourceContents>(Assert.Single(read.Contents)).Text);
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() =>
            client.SubscribeToResourceAsync("s3://web-bucket/a.txt", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("stateless HTTP", refused.Message, StringComparison.Ordinal);
    }
}
