using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Client;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests.Hosting;

/// <summary>The Streamable HTTP server on a real loopback port, driven by the SDK's HTTP client.</summary>
public sealed class HttpTransportTests : IDisposable
{
    private readonly TempDirectory _root = new();

    private async Task<(Microsoft.AspNetCore.Builder.WebApplication App, Uri Endpoint)> StartAsync()
    {
        Directory.CreateDirectory(Path.Join(_root.Path, "web-bucket"));
        var http = new HttpSettings { Urls = ["http://127.0.0.1:0"] };
        var settings = TestData.Settings("web-bucket") with { Http = http };
        var store = new LocalFolderStore(_root.Path);
        var app = QuiltMcpServer.BuildHttpApp(settings, http, storeFactory: _ => store);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return (app, new Uri(QuiltMcpServer.EndpointsOf(app, http).Single()));
    }

    [Fact]
    public async Task Tools_work_over_streamable_http_with_progress()
    {
        var (app, endpoint) = await StartAsync();
        await using var _ = app;
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(endpoint.Host)));
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }),
            cancellationToken: TestContext.Current.CancellationToken);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(tools, t => t.Name == "bucket_objects_put");

        var source = Path.Join(_root.Path, "upload.txt");
        var bytes = TestData.TextBytes(8 * 1024 * 1024);
        await File.WriteAllBytesAsync(source, bytes, TestContext.Current.CancellationToken);
        var progress = new ProgressLog();
        var result = await client.CallToolWithJsonAsync("bucket_objects_put",
            $$"""{"objects": [{"uri": "s3://web-bucket/up.txt", "localPath": {{TestData.Json(source)}}}]}""", progress,
            TestContext.Current.CancellationToken);
        Assert.False(result.IsError == true, McpHarness.Text(result));
        var put = result.StructuredContent!.Value.Deserialize<ObjectsPutResult>(ToolJson.Options)!;
        Assert.Equal(bytes.Length, put.TotalBytes);
        Assert.NotEmpty(progress.Values);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Join(_root.Path, "web-bucket", "up.txt"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Requests_from_a_foreign_web_page_are_refused()
    {
        var (app, endpoint) = await StartAsync();
        await using var _ = app;
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Add("Accept", "application/json, text/event-stream");
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task In_registry_mode_a_request_without_a_bearer_token_gets_401()
    {
        var http = new HttpSettings { Urls = ["http://127.0.0.1:0"] };
        var settings = TestData.Settings("any-bucket") with
        {
            Http = http,
            RegistryUrl = new Uri("http://127.0.0.1:9"),
        };
        await using var app = QuiltMcpServer.BuildHttpApp(settings, http);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var endpoint = new Uri(QuiltMcpServer.EndpointsOf(app, http).Single());
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Accept", "application/json, text/event-stream");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Authorization: Bearer", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    // 20 MiB: over the 16 MiB cap, under Kestrel's own default of 30 MB.
    private const int OverCapTextBytes = 20 << 20;

    private const string OverCapHead =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"bucket_objects_put\",\"arguments\":{\"objects\":[{\"uri\":\"s3://web-bucket/big.txt\",\"text\":\"";

    private const string OverCapTail = "\"}]}}}";

    [Fact]
    public async Task A_request_body_over_the_message_cap_with_its_length_is_refused_with_413_before_it_is_sent()
    {
        var (app, endpoint) = await StartAsync();
        await using var _ = app;
        var body = Encoding.UTF8.GetBytes(OverCapHead + new string('a', OverCapTextBytes) + OverCapTail);
        using var http = new HttpClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = content };
        request.Headers.Add("Accept", "application/json, text/event-stream");
        request.Headers.ExpectContinue = true; // the refusal comes before the body is sent

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains($"over this server's limit of {ServerSettings.DefaultMaxMessageBytes:N0} bytes", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Join(_root.Path, "web-bucket", "big.txt")));
    }

    /// <summary>
    /// Sent chunked, the body has no length to refuse up front: Kestrel's limit stops it as it is read, and the server
    /// answers 413 and closes while the client may still be writing. So the client is a raw socket that reads the answer
    /// while it writes and stops writing when the server closes; a failed write counts only once the answer is in.
    /// </summary>
    [Fact]
    public async Task A_chunked_request_body_over_the_message_cap_is_refused_with_413_as_it_is_read()
    {
        var (app, endpoint) = await StartAsync();
        await using var _ = app;
        var ct = TestContext.Current.CancellationToken;
        using var socket = new TcpClient();
        await socket.ConnectAsync(endpoint.Host, endpoint.Port, ct);
        var stream = socket.GetStream();

        var reading = ReadToEndAsync(stream, ct);
        var writing = WriteChunkedAsync(stream, endpoint, ct);
        var response = await reading;
        // The server closed before the client finished writing (the refusal), or the client wrote all of it: either is
        // fine once the answer is in; a write that failed before any answer came would have left `response` empty.
        await writing;

        var head = response.Split("\r\n", 2)[0];
        Assert.True(head.StartsWith("HTTP/1.1 413 ", StringComparison.Ordinal), $"the server answered: {head}");
        Assert.Contains($"over this server's limit of {ServerSettings.DefaultMaxMessageBytes:N0} bytes", response, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Join(_root.Path, "web-bucket", "big.txt")));
    }

    /// <summary>
    /// Writes the request head, the over-cap body in 64 KiB chunks and the last chunk. The server closing the connection
    /// (its answer to an over-cap body) ends the writing without an error.
    /// </summary>
    private static async Task WriteChunkedAsync(NetworkStream stream, Uri endpoint, CancellationToken ct)
    {
        try
        {
            // Connection: close, so that the server closes after its answer whatever it is, and reading to the end ends.
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST {endpoint.PathAndQuery} HTTP/1.1\r\nHost: {endpoint.Authority}\r\nContent-Type: application/json\r\n"
                + "Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"), ct);
            await WriteChunkAsync(stream, Encoding.UTF8.GetBytes(OverCapHead), ct);
            var fill = new byte[64 * 1024];
            Array.Fill(fill, (byte)'a');
            for (var written = 0; written < OverCapTextBytes; written += fill.Length)
                await WriteChunkAsync(stream, fill, ct);
            await WriteChunkAsync(stream, Encoding.UTF8.GetBytes(OverCapTail), ct);
            await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), ct);
        }
        catch (IOException)
        {
            // The server closed the connection (reset or broken pipe): the refusal, which the reader checks.
        }
    }

    private static async Task WriteChunkAsync(NetworkStream stream, byte[] data, CancellationToken ct)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"), ct);
        await stream.WriteAsync(data, ct);
        await stream.WriteAsync("\r\n"u8.ToArray(), ct);
    }

    /// <summary>Everything the server sends until it closes; a reset after the answer ends it as a close would.</summary>
    private static async Task<string> ReadToEndAsync(NetworkStream stream, CancellationToken ct)
    {
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, ct)) > 0)
                received.Write(buffer, 0, n);
        }
        catch (IOException) when (received.Length > 0)
        {
        }
        return Encoding.UTF8.GetString(received.ToArray());
    }

    public void Dispose() => _root.Dispose();
}
