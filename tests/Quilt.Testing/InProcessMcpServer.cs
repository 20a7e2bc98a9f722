using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Quilt.Testing;

/// <summary>
/// An MCP server run in this process over two pipes, as a stdio server runs over its standard input and output: tests
/// and benchmarks speak to it with the SDK's client (<see cref="ConnectAsync"/>) or as raw JSON-RPC lines
/// (<see cref="ToServer"/>, <see cref="FromServer"/>), with no child process.
/// </summary>
public sealed class InProcessMcpServer : IAsyncDisposable
{
    private readonly Pipe _clientToServer = new();
    private readonly Pipe _serverToClient = new();
    private readonly CancellationTokenSource _cts = new();
    private readonly ServiceProvider _provider;
    private readonly Task _serverTask;
    private McpClient? _client;

    private InProcessMcpServer(Action<IServiceCollection, Stream, Stream> addServer)
    {
        ToServer = _clientToServer.Writer.AsStream();
        FromServer = _serverToClient.Reader.AsStream();
        var services = new ServiceCollection();
        services.AddLogging();
        addServer(services, _clientToServer.Reader.AsStream(), _serverToClient.Writer.AsStream());
        _provider = services.BuildServiceProvider(validateScopes: true);
        _serverTask = _provider.GetRequiredService<McpServer>().RunAsync(_cts.Token);
    }

    /// <summary>
    /// Starts the server that <paramref name="addServer"/> registers, with its transport over the two streams it is
    /// given (what the server reads, what it writes), e.g.
    /// <c>(services, input, output) =&gt; services.AddQuiltMcpServer(settings).WithStreamServerTransport(input, output)</c>.
    /// </summary>
    public static InProcessMcpServer Start(Action<IServiceCollection, Stream, Stream> addServer)
    {
        ArgumentNullException.ThrowIfNull(addServer);
        return new InProcessMcpServer(addServer);
    }

    /// <summary>The server's services.</summary>
    public IServiceProvider Services => _provider;

    /// <summary>The client's end that the server reads from.</summary>
    public Stream ToServer { get; }

    /// <summary>The client's end that the server writes to.</summary>
    public Stream FromServer { get; }

    /// <summary>Connects the SDK's client (initialize included); it is disposed with this server.</summary>
    public async Task<McpClient> ConnectAsync(McpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        _client = await McpClient.CreateAsync(new StreamClientTransport(ToServer, FromServer), options, cancellationToken: cancellationToken);
        return _client;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
            await _client.DisposeAsync();
        await _cts.CancelAsync();
        await _clientToServer.Writer.CompleteAsync();
        await _serverToClient.Writer.CompleteAsync();
        try
        {
            await _serverTask;
        }
        catch (OperationCanceledException)
        {
        }
        await _provider.DisposeAsync();
        _cts.Dispose();
    }
}

public static class McpClientJson
{
    /// <summary>Calls a tool with its arguments written as one JSON object, as a client sends them.</summary>
    public static async Task<CallToolResult> CallToolWithJsonAsync(this McpClient client, string tool, string argumentsJson,
        IProgress<ProgressNotificationValue>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var doc = JsonDocument.Parse(argumentsJson);
        var arguments = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        return await client.CallToolAsync(tool, arguments, progress, cancellationToken: cancellationToken);
    }

    /// <summary>The text blocks of a tool's result, one a line (a tool error's message).</summary>
    public static string Text(CallToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));
    }
}
