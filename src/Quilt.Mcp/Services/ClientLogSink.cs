// Roots and logging are deprecated from protocol revision 2026-07-28 (SEP-2577); the clients this server serves speak
// 2025-11-25 and earlier, where they are how a client shares folders and takes log messages.
#pragma warning disable MCP9005
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Quilt.Mcp.Services;

/// <summary>
/// Sends log messages of one tool call to the client (notifications/message) at or above the level it set with
/// logging/setLevel; nothing before it sets one. Sent in order; the call waits for them before it answers. Messages
/// pass <see cref="Redact"/> first: a presigned URL's signature or a bearer token never leaves the server in a log.
/// </summary>
internal sealed partial class ClientLogSink(McpServer server)
{
    private readonly Lock _lock = new();
    private Task _tail = Task.CompletedTask;

    public bool IsEnabled(LoggingLevel level) => server.LoggingLevel is { } minimum && level >= minimum;

    public void Send(LoggingLevel level, string logger, string message)
    {
        if (!IsEnabled(level))
            return;
        var notification = new LoggingMessageNotificationParams
        {
            Level = level,
            Logger = logger,
            Data = JsonSerializer.SerializeToElement(Redact(message), McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(string))),
        };
        lock (_lock)
            _tail = SendAfterAsync(_tail, notification);
    }

    /// <summary>Waits until every message sent so far has gone out.</summary>
    public Task FlushAsync()
    {
        lock (_lock)
            return _tail;
    }

    public static LoggingLevel LevelOf(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => LoggingLevel.Debug,
        LogLevel.Information => LoggingLevel.Info,
        LogLevel.Warning => LoggingLevel.Warning,
        LogLevel.Error => LoggingLevel.Error,
        _ => LoggingLevel.Critical,
    };

    /// <summary>The message with credentials cut out: URL signatures, security tokens, access key ids in credentials, bearer tokens, Quilt API keys (qk_…).</summary>
    public static string Redact(string message) => Secrets().Replace(message, m => m.Groups["keep"].Value + "[redacted]");

    [GeneratedRegex(@"(?<keep>(?:X-Amz-(?:Signature|Credential|Security-Token)|Signature|AWSAccessKeyId|x-amz-security-token|token|access_token)=)[^&\s""']+"
        + @"|(?<keep>Bearer\s+)[A-Za-z0-9\-._~+/]+=*"
        // A Quilt API key anywhere, with or without "Bearer ".
        + @"|(?<keep>\bqk_)[A-Za-z0-9\-._~+/]+=*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Secrets();

    private async Task SendAfterAsync(Task previous, LoggingMessageNotificationParams notification)
    {
        await previous;
        try
        {
            await server.SendNotificationAsync(NotificationMethods.LoggingMessageNotification, notification,
                McpJsonUtilities.DefaultOptions, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The client went away: a log message is advisory.
        }
    }
}

/// <summary>Forwards what the server logs during a tool call (through ILogger) to that call's client, at the client's level.</summary>
internal sealed class ClientLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new ClientLogger(categoryName);

    public void Dispose()
    {
    }

    private sealed class ClientLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // The SDK's own messages stay on the server: it logs while sending, and a message about a message would loop.
        public bool IsEnabled(LogLevel logLevel) =>
            logLevel != LogLevel.None && !category.StartsWith("ModelContextProtocol", StringComparison.Ordinal)
            && CallScope.Current?.Log.IsEnabled(ClientLogSink.LevelOf(logLevel)) == true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            if (IsEnabled(logLevel) && CallScope.Current is { } call)
                call.Log.Send(ClientLogSink.LevelOf(logLevel), category, formatter(state, exception));
        }
    }
}
