using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;
using Microsoft.Extensions.DependencyInjection;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Bench;

/// <summary>
/// Issue 14: what results cost an assistant. Bytes and tokens (o200k_base, the GPT-4o vocabulary; bytes/4 beside it) of
/// tools/list and of a list, a browse and a diff of a fixed package the suite makes on local storage, measured on the
/// JSON-RPC response line exactly as the server writes it (content and structuredContent both).
/// </summary>
public static class SizeBench
{
    private const string Bucket = "bench";
    private const string Package = "bench/sized";

    public static async Task RunAsync(TextWriter output)
    {
        var root = Path.Combine(Path.GetTempPath(), "quilt-bench-size-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // 1,000 objects in 10 folders of 100: data/part-00/file-000.csv ... data/part-09/file-099.csv.
            for (var i = 0; i < 1000; i++)
            {
                var path = Path.Combine(root, Bucket, "data", $"part-{i / 100:00}", $"file-{i % 100:000}.csv");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, $"id,value\n{i},{i * 7}\n");
            }
            await File.WriteAllTextAsync(Path.Combine(root, Bucket, "table.csv"),
                "id,name,value\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"{i},name-{i},{i * 1.5}\n")));
            var settings = new ServerSettings
            {
                Storage = new StorageSettings { Kind = StorageKind.Local, LocalRoot = root },
                AllowedBuckets = [Bucket],
            };
            await using var mcp = await InProcessMcp.StartAsync(settings);
            await mcp.CallAsync("package_create", $$$"""
                {"package": "{{{Package}}}", "registry": "{{{Bucket}}}", "message": "first", "copy": false,
                 "sources": [{"uri": "s3://{{{Bucket}}}/data/"}], "metadata": {"project": "bench"}}
                """);
            // Second revision: 20 entries changed, 10 removed, 10 added.
            var add = string.Join(", ", Enumerable.Range(0, 30).Select(i => i < 20
                ? $$"""{"logicalKey": "part-00/file-{{i:000}}.csv", "text": "id,value\n{{i}},changed\n"}"""
                : $$"""{"logicalKey": "part-10/file-{{i:000}}.csv", "text": "id,value\n{{i}},new\n"}"""));
            var remove = string.Join(", ", Enumerable.Range(0, 10).Select(i => $"\"part-09/file-{i:000}.csv\""));
            await mcp.CallAsync("package_patch", $$"""
                {"package": "{{Package}}", "registry": "{{Bucket}}", "message": "second", "add": [{{add}}], "remove": [{{remove}}]}
                """);

            var tokenizer = TiktokenTokenizer.CreateForModel("gpt-4o");
            // Measured on the wire: the response line the server writes, read raw from a second server on the same root.
            await using var wire = await WireSession.StartAsync(settings);
            var tools = await wire.RequestAsync("tools/list", new JsonObject());
            var toolCount = (JsonNode.Parse(tools)!["result"]!["tools"] as JsonArray)!.Count;
            var rows = new List<string>
            {
                Row(tokenizer, $"tools/list ({toolCount} tools)", tools),
                Row(tokenizer, "bucket_objects_list, 1,000 objects (flat, pageSize 1000)",
                    await wire.CallAsync("bucket_objects_list", new JsonObject { ["bucket"] = Bucket, ["prefix"] = "data/", ["pageSize"] = 1000 })),
                Row(tokenizer, "package_browse, one folder of 100 entries",
                    await wire.CallAsync("package_browse", new JsonObject { ["package"] = Package, ["registry"] = Bucket, ["path"] = "part-03/", ["pageSize"] = 100 })),
                Row(tokenizer, "package_diff, 20 modified, 10 removed, 10 added",
                    await wire.CallAsync("package_diff", new JsonObject { ["package"] = Package, ["registry"] = Bucket })),
                Row(tokenizer, "bucket_object_text, CSV preview of 20 rows",
                    await wire.CallAsync("bucket_object_text", new JsonObject { ["uri"] = $"s3://{Bucket}/table.csv" })),
                Row(tokenizer, "bucket_object_text, 8 KB of plain text",
                    await wire.CallAsync("bucket_object_text", new JsonObject { ["uri"] = $"s3://{Bucket}/table.csv", ["format"] = "text", ["maxBytes"] = 8192 })),
            };

            await output.WriteLineAsync("Result sizes (issue 14): the JSON-RPC response line as the server writes it, local storage, a package of 1,000 entries "
                + "in 10 folders and a second revision. Tokens: o200k_base (Microsoft.ML.Tokenizers, GPT-4o's vocabulary) of the whole result; "
                + "bytes/4 is the usual estimate. Text and structured: bytes of the text content blocks and of structuredContent.");
            await output.WriteLineAsync();
            await output.WriteLineAsync("| what | bytes | tokens (o200k) | bytes/4 | text bytes | structured bytes |");
            await output.WriteLineAsync("| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var row in rows)
                await output.WriteLineAsync(row);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <param name="line">The JSON-RPC response as the server wrote it (one line).</param>
    private static string Row(Tokenizer tokenizer, string label, string line)
    {
        var bytes = Encoding.UTF8.GetByteCount(line);
        var result = JsonNode.Parse(line)!["result"]!;
        // The parts as the client decodes them (UTF-8 of the strings; structuredContent re-serialized compactly).
        var text = (result["content"] as JsonArray ?? []).Where(b => (string?)b?["type"] == "text")
            .Sum(b => Encoding.UTF8.GetByteCount((string?)b!["text"] ?? ""));
        var structured = result["structuredContent"] is { } s ? Encoding.UTF8.GetByteCount(s.ToJsonString(Relaxed)) : 0;
        return $"| {label} | {bytes:N0} | {tokenizer.CountTokens(line):N0} | {bytes / 4:N0} | {text:N0} | {structured:N0} |";
    }

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A server spoken to in raw JSON-RPC lines, so what is measured is exactly what it wrote.</summary>
    private sealed class WireSession : IAsyncDisposable
    {
        private readonly InProcessMcpServer _server;
        private readonly StreamWriter _writer;
        private readonly StreamReader _reader;
        private int _id;

        private WireSession(InProcessMcpServer server)
        {
            _server = server;
            _writer = new StreamWriter(server.ToServer, new UTF8Encoding(false)) { AutoFlush = true };
            _reader = new StreamReader(server.FromServer, Encoding.UTF8);
        }

        public static async Task<WireSession> StartAsync(ServerSettings settings)
        {
            var session = new WireSession(InProcessMcpServer.Start((services, input, output) =>
                services.AddQuiltMcpServer(settings).WithStreamServerTransport(input, output)));
            await session.RequestAsync("initialize", new JsonObject
            {
                ["protocolVersion"] = "2025-06-18",
                ["capabilities"] = new JsonObject(),
                ["clientInfo"] = new JsonObject { ["name"] = "quilt-bench", ["version"] = "1" },
            });
            await session._writer.WriteLineAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
            return session;
        }

        public async Task<string> RequestAsync(string method, JsonObject parameters)
        {
            var id = ++_id;
            await _writer.WriteLineAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters }.ToJsonString());
            while (await _reader.ReadLineAsync() is { } line)
            {
                // Notifications (progress, logging) may come first; the response carries the request's id.
                if (JsonNode.Parse(line) is JsonObject message && message["id"] is { } got && got.GetValue<int>() == id)
                    return message["error"] is null ? line : throw new InvalidOperationException($"{method} failed: {line}");
            }
            throw new InvalidOperationException($"The server closed before answering {method}.");
        }

        public async Task<string> CallAsync(string tool, JsonObject arguments)
        {
            var line = await RequestAsync("tools/call", new JsonObject { ["name"] = tool, ["arguments"] = arguments });
            return JsonNode.Parse(line)!["result"]!["isError"]?.GetValue<bool>() == true ? throw new InvalidOperationException($"{tool} failed: {line}") : line;
        }

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            _writer.Dispose();
            _reader.Dispose();
        }
    }
}
