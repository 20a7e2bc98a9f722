using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using Quilt.Mcp.Configuration;
using Quilt.Storage;

namespace Quilt.Mcp.Tests.Capabilities;

/// <summary>A local-folder store with one allowed bucket, local files to upload and fetch to, and a server per test with the client options it needs.</summary>
public abstract class InteractionTests : IAsyncLifetime
{
    private readonly LocalToolTestStore _backing = new();
    private readonly List<McpHarness> _servers = [];

    private protected IObjectStore Store { get; private set; } = null!;
    private protected string Bucket { get; private set; } = "";
    private protected Quilt.Testing.TempDirectory Files { get; } = new();

    public async ValueTask InitializeAsync() => (Store, Bucket, _) = await _backing.OpenAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
            await server.DisposeAsync();
        Files.Dispose();
        await _backing.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private protected async Task<McpHarness> StartAsync(McpClientOptions? client = null, Func<ServerSettings, ServerSettings>? settings = null,
        Action<IServiceCollection>? configure = null)
    {
        var server = await McpHarness.StartAsync((settings ?? (s => s))(TestData.Settings(Bucket)), Store, configure, clientOptions: client);
        _servers.Add(server);
        return server;
    }

    private protected async Task PutAsync(string key, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        await Store.PutAsync(new PutRequest(Bucket, key) { Length = bytes.Length }, new MemoryStream(bytes), null, TestContext.Current.CancellationToken);
    }

    private protected async Task<bool> ExistsAsync(string key)
    {
        var listing = await Store.ListAsync(new ListRequest(Bucket, key), TestContext.Current.CancellationToken);
        return listing.Objects.Any(o => o.Key == key);
    }

    private protected string LocalFile(string name, string text)
    {
        var path = Path.Join(Files.Path, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds: notifications travel apart from results.</summary>
    private protected static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 300 && !condition(); i++)
            await Task.Delay(10, TestContext.Current.CancellationToken);
    }
}

/// <summary>Collects what a client is sent, in arrival order.</summary>
internal sealed class Received<T>
{
    private readonly ConcurrentQueue<T> _items = new();

    public IReadOnlyList<T> Items => [.. _items];

    public void Add(T item) => _items.Enqueue(item);
}
