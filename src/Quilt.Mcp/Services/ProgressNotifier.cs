using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Operations;

namespace Quilt.Mcp.Services;

/// <summary>
/// Sends progress notifications for one tool call, in order, and lets the tool wait for them before it answers.
/// (The SDK's own IProgress sends fire-and-forget, so the last notifications can arrive after the result, when
/// clients have stopped listening for them.)
/// </summary>
public sealed class ProgressNotifier : IProgress<ProgressNotificationValue>, IProgress<ProgressUpdate>
{
    private readonly McpServer? _server;
    private readonly ProgressToken? _token;
    private readonly Lock _lock = new();
    private Task _tail = Task.CompletedTask;

    private ProgressNotifier(McpServer? server, ProgressToken? token) => (_server, _token) = (server, token);

    /// <summary>A notifier for the call; it does nothing when the client asked for no progress.</summary>
    public static ProgressNotifier For(RequestContext<CallToolRequestParams>? context) =>
        new(context?.Server, context?.Params?.ProgressToken);

    public void Report(ProgressNotificationValue value)
    {
        if (_server is null || _token is not { } token)
            return;
        lock (_lock)
            _tail = SendAfterAsync(_tail, _server, token, value);
    }

    public void Report(ProgressUpdate value) =>
        Report(new ProgressNotificationValue { Progress = (float)value.Done, Total = (float?)value.Total, Message = value.Message });

    /// <summary>Waits until every notification reported so far has been sent.</summary>
    public Task FlushAsync()
    {
        lock (_lock)
            return _tail;
    }

    private static async Task SendAfterAsync(Task previous, McpServer server, ProgressToken token, ProgressNotificationValue value)
    {
        await previous;
        try
        {
            await server.NotifyProgressAsync(token, value, cancellationToken: CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The client went away: progress is advisory, the call itself reports success or failure.
        }
    }
}
