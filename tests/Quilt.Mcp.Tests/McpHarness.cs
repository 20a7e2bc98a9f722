using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Tests;

/// <summary>The SDK's in-process pairing: a real MCP client and server joined by two pipes, the server built as the product builds it.</summary>
internal sealed class McpHarness : IAsyncDisposable
{
    private readonly Pipe _clientToServer = new();
    private readonly Pipe _serverToClient = new();
    private readonly CancellationTokenSource _cts = new();
    private ServiceProvider? _provider;
    private Task _serverTask = Task.CompletedTask;

    private McpHarness(IObjectStore store) => Store = store;

    public IObjectStore Store { get; }

    /// <summary>The server's services.</summary>
    public IServiceProvider Services => _provider!;

    public McpClient Client { get; private set; } = null!;

    /// <param name="addServer">The server's registration (default: the product's, <see cref="QuiltMcpServer.AddQuiltMcpServer"/>).</param>
    /// <param name="clientOptions">The client's options, such as the protocol version it asks for.</param>
    public static async Task<McpHarness> StartAsync(ServerSettings settings, IObjectStore store, Action<IServiceCollection>? configure = null,
        Func<IServiceCollection, IMcpServerBuilder>? addServer = null, McpClientOptions? clientOptions = null)
    {
        var harness = new McpHarness(store);
        var services = new ServiceCollection();
        services.AddLogging();
        configure?.Invoke(services);
        (addServer ?? (s => s.AddQuiltMcpServer(settings)))(services)
            .WithStreamServerTransport(harness._clientToServer.Reader.AsStream(), harness._serverToClient.Writer.AsStream());
        // An instance registration wins over the default factory, and the container does not dispose it: the test owns the store.
        services.AddSingleton(store);
        harness._provider = services.BuildServiceProvider(validateScopes: true);
        harness._serverTask = harness._provider.GetRequiredService<McpServer>().RunAsync(harness._cts.Token);
        harness.Client = await McpClient.CreateAsync(
            new StreamClientTransport(harness._clientToServer.Writer.AsStream(), harness._serverToClient.Reader.AsStream()),
            clientOptions, cancellationToken: TestContext.Current.CancellationToken);
        return harness;
    }

    /// <summary>Calls a tool with arguments written as JSON, as a client would send them.</summary>
    public Task<CallToolResult> CallAsync(string tool, string argumentsJson = "{}", IProgress<ProgressNotificationValue>? progress = null) =>
        CallCancellableAsync(tool, argumentsJson, progress, TestContext.Current.CancellationToken);

    public async Task<CallToolResult> CallCancellableAsync(string tool, string argumentsJson, IProgress<ProgressNotificationValue>? progress,
        CancellationToken cancellationToken)
    {
        using var doc = JsonDocument.Parse(argumentsJson);
        var arguments = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        return await Client.CallToolAsync(tool, arguments, progress, cancellationToken: cancellationToken);
    }

    /// <summary>Calls a tool that must succeed and returns its structured result.</summary>
    public async Task<T> CallOkAsync<T>(string tool, string argumentsJson = "{}", IProgress<ProgressNotificationValue>? progress = null)
    {
        var result = await CallAsync(tool, argumentsJson, progress);
        Assert.False(result.IsError == true, $"{tool} failed: {Text(result)}");
        Assert.NotNull(result.StructuredContent);
        return (T)result.StructuredContent.Value.Deserialize(ToolJson.Options.GetTypeInfo(typeof(T)))!;
    }

    /// <summary>Calls a tool that must fail with a tool error, and returns the error text.</summary>
    public async Task<string> CallErrorAsync(string tool, string argumentsJson = "{}")
    {
        var result = await CallAsync(tool, argumentsJson);
        Assert.True(result.IsError == true, $"{tool} should have failed but returned: {Text(result)}");
        return Text(result);
    }

    public static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
            await Client.DisposeAsync();
        await _cts.CancelAsync();
        _clientToServer.Writer.Complete();
        _serverToClient.Writer.Complete();
        try
        {
            await _serverTask;
        }
        catch (OperationCanceledException)
        {
        }
        if (_provider is not null)
            await _provider.DisposeAsync();
        _cts.Dispose();
    }
}

/// <summary>A temporary folder removed at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Join(System.IO.Path.GetTempPath(), "quilt-mcp-tests", Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Join(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
