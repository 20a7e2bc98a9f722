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
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>A real MCP client and the server built as the product builds it, in process (<see cref="InProcessMcpServer"/>), with the tests' call helpers.</summary>
internal sealed class McpHarness : IAsyncDisposable
{
    private readonly InProcessMcpServer _server;

    private McpHarness(InProcessMcpServer server, IObjectStore store)
    {
        _server = server;
        Store = store;
    }

    public IObjectStore Store { get; }

    /// <summary>The server's services.</summary>
    public IServiceProvider Services => _server.Services;

    public McpClient Client { get; private set; } = null!;

    /// <param name="addServer">The server's registration (default: the product's, <see cref="QuiltMcpServer.AddQuiltMcpServer"/>).</param>
    /// <param name="clientOptions">The client's options, such as the protocol version it asks for.</param>
    public static async Task<McpHarness> StartAsync(ServerSettings settings, IObjectStore store, Action<IServiceCollection>? configure = null,
        Func<IServiceCollection, IMcpServerBuilder>? addServer = null, McpClientOptions? clientOptions = null)
    {
        var server = InProcessMcpServer.Start((services, input, output) =>
        {
            configure?.Invoke(services);
            (addServer ?? (s => s.AddQuiltMcpServer(settings)))(services).WithStreamServerTransport(input, output);
            // An instance registration wins over the default factory, and the container does not dispose it: the test owns the store.
            services.AddSingleton(store);
        });
        var harness = new McpHarness(server, store);
        harness.Client = await server.ConnectAsync(clientOptions, TestContext.Current.CancellationToken);
        return harness;
    }

    /// <summary>Calls a tool with arguments written as JSON, as a client would send them.</summary>
    public Task<CallToolResult> CallAsync(string tool, string argumentsJson = "{}", IProgress<ProgressNotificationValue>? progress = null) =>
        CallCancellableAsync(tool, argumentsJson, progress, TestContext.Current.CancellationToken);

    public async Task<CallToolResult> CallCancellableAsync(string tool, string argumentsJson, IProgress<ProgressNotificationValue>? progress,
        CancellationToken cancellationToken)
    {
        if (progress is null)
            return await Client.CallToolWithJsonAsync(tool, argumentsJson, null, cancellationToken);
        // The SDK's own progress handler lives only as long as the call, and this client handles each message on its own
        // task, so notifications the server sent before its answer could be dropped when handled after it. A handler for
        // the harness's lifetime keeps every one; ProgressLog.WaitForAsync then waits for the stragglers.
        var token = Guid.NewGuid().ToString("N");
        _progressSinks[token] = progress;
        _progressHandler ??= Client.RegisterNotificationHandler(NotificationMethods.ProgressNotification, (notification, _) =>
        {
            var sent = notification.Params?.Deserialize<ProgressNotificationParams>(McpJsonUtilities.DefaultOptions);
            if (sent is not null && _progressSinks.TryGetValue(sent.ProgressToken.ToString()!, out var sink))
                sink.Report(sent.Progress);
            return ValueTask.CompletedTask;
        });
        using var doc = JsonDocument.Parse(argumentsJson);
        return await Client.CallToolAsync(new CallToolRequestParams
        {
            Name = tool,
            Arguments = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
            Meta = new System.Text.Json.Nodes.JsonObject { ["progressToken"] = token },
        }, cancellationToken);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IProgress<ProgressNotificationValue>> _progressSinks = new();
    private IAsyncDisposable? _progressHandler;

    /// <summary>Calls a tool that must succeed and returns its structured result.</summary>
    public async Task<T> CallOkAsync<T>(string tool, string argumentsJson = "{}", IProgress<ProgressNotificationValue>? progress = null)
    {
        var result = await CallAsync(tool, argumentsJson, progress);
        Assert.False(result.IsError == true, $"{tool} failed: {Text(result)}");
        Assert.NotNull(result.StructuredContent);
        return (T)result.StructuredContent.Value.Deserialize(ToolJson.Options.GetTypeInfo(typeof(T)))!;
    }

    /// <summary>
    /// Calls bucket_object_text or package_entry_text, which must succeed: the structured result with its text taken from
    /// the first content block, where the tools send it (structuredContent leaves it out rather than repeat it).
    /// </summary>
    public async Task<ObjectTextResult> CallTextAsync(string tool, string argumentsJson)
    {
        var result = await CallAsync(tool, argumentsJson);
        Assert.False(result.IsError == true, $"{tool} failed: {Text(result)}");
        var structured = (ObjectTextResult)result.StructuredContent!.Value.Deserialize(ToolJson.Options.GetTypeInfo(typeof(ObjectTextResult)))!;
        Assert.Null(structured.Text);
        return structured with { Text = Assert.IsType<TextContentBlock>(result.Content[0]).Text };
    }

    /// <summary>Calls a tool that must fail with a tool error, and returns the error text.</summary>
    public async Task<string> CallErrorAsync(string tool, string argumentsJson = "{}")
    {
        var result = await CallAsync(tool, argumentsJson);
        Assert.True(result.IsError == true, $"{tool} should have failed but returned: {Text(result)}");
        return Text(result);
    }

    public static string Text(CallToolResult result) => McpClientJson.Text(result);

    public async ValueTask DisposeAsync()
    {
        if (_progressHandler is not null)
            await _progressHandler.DisposeAsync();
        await _server.DisposeAsync();
    }
}
