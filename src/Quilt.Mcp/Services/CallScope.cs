using ModelContextProtocol.Server;

namespace Quilt.Mcp.Services;

/// <summary>
/// The session serving the tool call in progress, for services below the tools that need the client (its roots, its
/// log level) without an MCP type in their signatures. Set by the call filter for the duration of one call.
/// </summary>
internal static class CallScope
{
    private static readonly AsyncLocal<Call?> CurrentCall = new();

    public static Call? Current => CurrentCall.Value;

    public static Call Begin(McpServer server)
    {
        var call = new Call(server);
        CurrentCall.Value = call;
        return call;
    }

    public static void End() => CurrentCall.Value = null;

    internal sealed class Call(McpServer server)
    {
        public McpServer Server { get; } = server;

        public ClientLogSink Log { get; } = new(server);
    }
}
