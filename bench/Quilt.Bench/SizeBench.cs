using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;
using Quilt.Mcp.Configuration;
using Quilt.Storage;

namespace Quilt.Bench;

/// <summary>
/// Issue 14: what results cost an assistant. Bytes and tokens (o200k_base, the GPT-4o vocabulary; bytes/4 beside it) of
/// tools/list and of a list, a browse and a diff of a fixed package the suite makes on local storage, measured on the
/// JSON-RPC result as the client receives it (content and structuredContent both).
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
            var rows = new List<string>
            {
                Row(tokenizer, "tools/list (18 tools)", await mcp.RequestAsync("tools/list", new JsonObject())),
                Row(tokenizer, "bucket_objects_list, 1,000 objects (flat, pageSize 1000)",
                    await CallRawAsync(mcp, "bucket_objects_list", new JsonObject { ["bucket"] = Bucket, ["prefix"] = "data/", ["pageSize"] = 1000 })),
                Row(tokenizer, "package_browse, one folder of 100 entries",
                    await CallRawAsync(mcp, "package_browse", new JsonObject { ["package"] = Package, ["registry"] = Bucket, ["path"] = "part-03/", ["pageSize"] = 100 })),
                Row(tokenizer, "package_diff, 20 modified, 10 removed, 10 added",
                    await CallRawAsync(mcp, "package_diff", new JsonObject { ["package"] = Package, ["registry"] = Bucket })),
                Row(tokenizer, "bucket_object_text, CSV preview of 20 rows",
                    await CallRawAsync(mcp, "bucket_object_text", new JsonObject { ["uri"] = $"s3://{Bucket}/table.csv" })),
                Row(tokenizer, "bucket_object_text, 8 KB of plain text",
                    await CallRawAsync(mcp, "bucket_object_text", new JsonObject { ["uri"] = $"s3://{Bucket}/table.csv", ["format"] = "text", ["maxBytes"] = 8192 })),
            };

            await output.WriteLineAsync("Result sizes (issue 14): the JSON-RPC result as the client receives it, local storage, a package of 1,000 entries "
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

    private static async Task<JsonNode> CallRawAsync(InProcessMcp mcp, string tool, JsonObject arguments)
    {
        var result = await mcp.RequestAsync("tools/call", new JsonObject { ["name"] = tool, ["arguments"] = arguments });
        if (result["isError"]?.GetValue<bool>() == true)
            throw new InvalidOperationException($"{tool} failed: {result.ToJsonString()}");
        return result;
    }

    private static string Row(Tokenizer tokenizer, string label, JsonNode result)
    {
        var json = result.ToJsonString();
        var bytes = Encoding.UTF8.GetByteCount(json);
        var text = (result["content"] as JsonArray ?? []).Where(b => (string?)b?["type"] == "text")
            .Sum(b => Encoding.UTF8.GetByteCount((string?)b!["text"] ?? ""));
        var structured = result["structuredContent"] is { } s ? Encoding.UTF8.GetByteCount(s.ToJsonString()) : 0;
        return $"| {label} | {bytes:N0} | {tokenizer.CountTokens(json):N0} | {bytes / 4:N0} | {text:N0} | {structured:N0} |";
    }
}
