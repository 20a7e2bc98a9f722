using System.Text;
using System.Text.Json.Nodes;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

/// <summary>The stdio server as MCP clients launch it (a separate quilt-mcp process), sent a message far over its cap.</summary>
public sealed class ServeMessageCapTests : IDisposable
{
    private readonly TempDirectory _temp = new("quilt-serve-tests");

    // The store's root and the tool's state folder (CliRunner puts it beside the root), both in the scratch folder.
    private string Root => Path.Combine(_temp.Path, "root");

    public void Dispose() => _temp.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_64_MiB_message_is_refused_with_an_error_the_server_stays_small_and_serves_the_next_one()
    {
        Directory.CreateDirectory(Path.Combine(Root, "bucket"));
        using var server = new CliRunner(Root).Start("serve");
        var stderr = server.StandardError.ReadToEndAsync(Ct);
        var input = server.StandardInput.BaseStream;
        var output = server.StandardOutput;
        try
        {
            await WriteAsync(input, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""" + "\n");
            Assert.Equal(1, JsonNode.Parse(await ReadLineAsync(output))!["id"]!.GetValue<int>());
            await WriteAsync(input, """{"jsonrpc":"2.0","method":"notifications/initialized"}""" + "\n");

            // 64 MiB of inline text, the id last (as the TypeScript SDK writes it), sent a piece at a time.
            await WriteAsync(input, "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"bucket_objects_put\",\"arguments\":{\"objects\":[{\"uri\":\"s3://bucket/big.txt\",\"text\":\"");
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)'a');
            for (var sent = 0L; sent < 64L << 20; sent += chunk.Length)
                await input.WriteAsync(chunk, Ct);
            await WriteAsync(input, "\"}]}},\"id\":2}\n");

            var refused = JsonNode.Parse(await ReadLineAsync(output))!;
            Assert.Equal(2, refused["id"]!.GetValue<int>());
            Assert.Equal(-32600, refused["error"]!["code"]!.GetValue<int>());
            Assert.Contains("over this server's limit", refused["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

            await WriteAsync(input, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}""" + "\n");
            var listed = JsonNode.Parse(await ReadLineAsync(output))!;
            Assert.Equal(3, listed["id"]!.GetValue<int>());
            Assert.NotEmpty(listed["result"]!["tools"]!.AsArray());

            // The most memory the server held at any time: the message read whole took it to 921 MiB.
            server.Refresh();
            var peak = server.PeakWorkingSet64;
            Assert.True(peak < 256L << 20, $"the server's peak working set was {peak:N0} bytes");
            Assert.False(File.Exists(Path.Combine(Root, "bucket", "big.txt")));
        }
        finally
        {
            server.StandardInput.Close();
            await server.WaitForExitAsync(Ct);
        }
        Assert.Equal(0, server.ExitCode);
        Assert.Contains("over this server's limit", await stderr, StringComparison.Ordinal);
    }

    private static async Task<string> ReadLineAsync(StreamReader output) =>
        await output.ReadLineAsync(Ct) ?? throw new Xunit.Sdk.XunitException("The server closed its output (it stopped) instead of answering.");

    private static async Task WriteAsync(Stream input, string text)
    {
        await input.WriteAsync(Encoding.UTF8.GetBytes(text), Ct);
        await input.FlushAsync(Ct);
    }
}
