using System.Text;
using System.Text.Json.Nodes;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests.Hosting;

/// <summary>Tests that measure the process's allocations run alone, so that no other test's allocations count.</summary>
[CollectionDefinition(nameof(AllocationMeasuringCollection), DisableParallelization = true)]
public sealed class AllocationMeasuringCollection;

/// <summary>
/// The stdio transport as the product runs it (<see cref="QuiltMcpServer.WithCappedStreamServerTransport"/>), spoken to
/// as raw JSON-RPC lines over a pipe pair: a message over the cap is refused with an error naming the cap, without the
/// server holding it, and the server goes on serving.
/// </summary>
[Collection(nameof(AllocationMeasuringCollection))]
public sealed class StdioMessageCapTests : IAsyncDisposable
{
    private readonly TempDirectory _root = new();
    private InProcessMcpServer? _server;
    private StreamReader? _fromServer;

    private Stream ToServer => _server!.ToServer;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task StartAsync(int? maxMessageBytes = null)
    {
        Directory.CreateDirectory(Path.Join(_root.Path, "bucket"));
        var settings = TestData.Settings("bucket");
        var store = new LocalFolderStore(_root.Path);
        _server = InProcessMcpServer.Start((services, input, output) => services.AddQuiltMcpServer(settings, _ => store)
            .WithCappedStreamServerTransport(input, output, maxMessageBytes ?? settings.MaxMessageBytes));
        _fromServer = new StreamReader(_server.FromServer, Encoding.UTF8);
        await SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        Assert.Equal(1, (await ReceiveAsync())["id"]!.GetValue<int>());
        await SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
    }

    private async Task SendAsync(string line)
    {
        await ToServer.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), Ct);
        await ToServer.FlushAsync(Ct);
    }

    /// <summary>
    /// Writes <paramref name="head"/>, <paramref name="fill"/> bytes 'a' (from one reused buffer), <paramref name="tail"/>
    /// and a newline; returns the line's length without the newline.
    /// </summary>
    private async Task<long> SendLongAsync(string head, long fill, string tail)
    {
        await ToServer.WriteAsync(Encoding.UTF8.GetBytes(head), Ct);
        // Small writes: the pipe then holds a few pooled segments at a time, so the test's own side allocates nothing that counts.
        var chunk = new byte[16 * 1024];
        Array.Fill(chunk, (byte)'a');
        for (long sent = 0; sent < fill; sent += chunk.Length)
            await ToServer.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, fill - sent)), Ct);
        await ToServer.WriteAsync(Encoding.UTF8.GetBytes(tail + "\n"), Ct);
        await ToServer.FlushAsync(Ct);
        return head.Length + fill + tail.Length;
    }

    private async Task<JsonNode> ReceiveAsync()
    {
        var line = await _fromServer!.ReadLineAsync(Ct);
        Assert.NotNull(line);
        return JsonNode.Parse(line)!;
    }

    [Fact]
    public async Task A_64_MiB_request_is_refused_with_an_error_naming_the_cap_without_being_held_and_the_next_is_served()
    {
        await StartAsync();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        // The TypeScript SDK writes the id last, after the arguments.
        var length = await SendLongAsync(
            "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"bucket_objects_put\",\"arguments\":{\"objects\":[{\"uri\":\"s3://bucket/big.txt\",\"text\":\"",
            64L << 20, "\"}]}},\"id\":2}");
        var refused = await ReceiveAsync();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.Equal(2, refused["id"]!.GetValue<int>());
        Assert.Equal(-32600, refused["error"]!["code"]!.GetValue<int>());
        var message = refused["error"]!["message"]!.GetValue<string>();
        Assert.Contains($"'tools/call' message of {length:N0} bytes", message, StringComparison.Ordinal);
        Assert.Contains($"limit of {ServerSettings.DefaultMaxMessageBytes:N0} bytes", message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Join(_root.Path, "bucket", "big.txt")));
        // Held whole, the line alone is 128 MiB of UTF-16 (and more while it is read and parsed); capped, at most 16 MiB
        // of it is kept at once (one buffer grown to the cap: about 20 MiB allocated in all).
        Assert.True(allocated < 48L << 20, $"{allocated:N0} bytes were allocated while the message was read");

        await SendAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/list"}""");
        var listed = await ReceiveAsync();
        Assert.Equal(3, listed["id"]!.GetValue<int>());
        Assert.Contains(listed["result"]!["tools"]!.AsArray(), t => t!["name"]!.GetValue<string>() == "bucket_objects_put");
    }

    [Fact]
    public async Task A_message_of_exactly_the_cap_is_served_and_one_byte_more_is_refused()
    {
        const int Cap = 100_000;
        await StartAsync(Cap);
        const string Head = "{\"jsonrpc\":\"2.0\",\"id\":\"at-cap\",\"method\":\"ping\",\"params\":{\"pad\":\"";
        const string Tail = "\"}}";

        await SendLongAsync(Head, Cap - Head.Length - Tail.Length, Tail);
        var served = await ReceiveAsync();
        Assert.Equal("at-cap", served["id"]!.GetValue<string>());
        Assert.NotNull(served["result"]);

        await SendLongAsync(Head.Replace("at-cap", "over-cap", StringComparison.Ordinal), Cap - Head.Length - Tail.Length, Tail);
        var refused = await ReceiveAsync();
        Assert.Equal("over-cap", refused["id"]!.GetValue<string>());
        Assert.Contains("'ping' message of 100,002 bytes", refused["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_top_level_id_answers_and_a_notification_over_the_cap_gets_no_answer()
    {
        await StartAsync(100_000);

        // An "id" inside params is not the request's.
        await SendLongAsync("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{\"id\":99,\"nested\":{\"id\":98},\"pad\":\"", 200_000, "\"},\"id\":\"top\"}");
        Assert.Equal("top", (await ReceiveAsync())["id"]!.GetValue<string>());

        // No id: nothing to answer; the next request's answer is the next line.
        await SendLongAsync("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"pad\":\"", 200_000, "\"}}");
        await SendAsync("""{"jsonrpc":"2.0","id":7,"method":"ping"}""");
        var next = await ReceiveAsync();
        Assert.Equal(7, next["id"]!.GetValue<int>());
        Assert.NotNull(next["result"]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        _fromServer?.Dispose();
        _root.Dispose();
    }
}
