using System.Collections.Concurrent;
using System.Reflection;
using ModelContextProtocol.Server;
using ModelContextProtocol;
using Quilt.Mcp.Configuration;

namespace Quilt.Mcp.Tests;

/// <summary>Collects progress notifications synchronously, in arrival order.</summary>
internal sealed class ProgressLog : IProgress<ProgressNotificationValue>
{
    private readonly ConcurrentQueue<ProgressNotificationValue> _values = new();

    public event Action<ProgressNotificationValue>? Reported;

    public IReadOnlyList<ProgressNotificationValue> Values => [.. _values];

    public void Report(ProgressNotificationValue value)
    {
        _values.Enqueue(value);
        Reported?.Invoke(value);
    }

    /// <summary>Notifications and the response travel separately; wait (bounded) until the last one has arrived.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<ProgressNotificationValue>, bool> condition)
    {
        for (var i = 0; i < 500 && !condition(Values); i++)
            await Task.Delay(10, TestContext.Current.CancellationToken);
    }
}

internal static class TestData
{
    /// <summary>Deterministic bytes that are not all alike: byte[i] = (i*31 + seed) % 256.</summary>
    public static byte[] Bytes(int length, int seed = 7)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
            bytes[i] = (byte)((i * 31 + seed) % 256);
        return bytes;
    }

    /// <summary>Deterministic ASCII text of numbered lines, cut to exactly <paramref name="length"/> bytes.</summary>
    public static byte[] TextBytes(int length)
    {
        var bytes = new byte[length];
        var written = 0;
        for (var line = 0; written < length; line++)
        {
            var text = System.Text.Encoding.ASCII.GetBytes($"line {line}: the quick brown fox jumps over the lazy dog\n");
            var n = Math.Min(text.Length, length - written);
            Array.Copy(text, 0, bytes, written, n);
            written += n;
        }
        return bytes;
    }

    public static ServerSettings Settings(string bucket, bool readOnly = false, long? maxInline = null, int? maxText = null, string? catalog = null) => new()
    {
        Storage = new Quilt.Storage.StorageSettings(),
        AllowedBuckets = [bucket],
        ReadOnly = readOnly,
        MaxInlineBytes = maxInline ?? ServerSettings.DefaultMaxInlineBytes,
        MaxTextBytes = maxText ?? ServerSettings.DefaultMaxTextBytes,
        CatalogHost = catalog,
    };

    /// <summary>A JSON string literal for embedding a value in the tests' argument JSON.</summary>
    public static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);
}

/// <summary>The server's tool methods, in a stable order.</summary>
internal static class ToolMethods
{
    public static IEnumerable<MethodInfo> All() =>
        typeof(Quilt.Mcp.Models.ToolJson).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<McpServerToolTypeAttribute>() is not null)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Where(m => m.GetCustomAttribute<McpServerToolAttribute>() is not null)
            .OrderBy(m => m.DeclaringType!.Name, StringComparer.Ordinal).ThenBy(m => m.Name, StringComparer.Ordinal);

    /// <summary>The tool as the server builds one that is not in the catalog: by the SDK's reflection, then compacted for tools/list.</summary>
    public static McpServerTool Build(MethodInfo method) =>
        Quilt.Mcp.Tools.CompactToolListing.Apply(McpServerTool.Create(method, _ => throw new InvalidOperationException("not called"),
            Quilt.Mcp.Models.ToolJson.ToolOptions()));
}
