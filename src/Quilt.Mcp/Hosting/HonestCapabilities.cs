// Roots and logging are deprecated from protocol revision 2026-07-28 (SEP-2577); the clients this server serves speak
// 2025-11-25 and earlier, where they are how a client shares folders and takes log messages.
#pragma warning disable MCP9005
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Services;

namespace Quilt.Mcp.Hosting;

/// <summary>
/// The server advertises and does what it can deliver, no more: a read-only server does not list tools that write;
/// log messages reach the client at the level it sets (stdio; stateless HTTP cannot keep a level, so it does not
/// advertise logging); no listChanged where the list never changes; the client's roots limit local paths.
/// </summary>
internal static class HonestCapabilities
{
    /// <summary>The tools a read-only server hides (every tool not annotated readOnlyHint: true), by name.</summary>
    internal sealed class HiddenTools
    {
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// Registered by the stateless Streamable HTTP host: each request is its own session, so the server cannot send the
    /// client a request (roots/list, elicitation) nor keep a log level; it behaves as for a client without them.
    /// </summary>
    internal sealed class StatelessHttp
    {
        public static bool In(IServiceProvider? services) => services?.GetService<StatelessHttp>() is not null;
    }

    /// <summary>Registers the capability rules. Add before other call filters: this one wraps them (its scope covers their logging).</summary>
    public static IMcpServerBuilder WithHonestCapabilities(this IMcpServerBuilder builder, ServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var hidden = new HiddenTools();
        builder.Services.AddSingleton(hidden);
        builder.Services.AddSingleton<ClientRoots>();
        builder.Services.AddSingleton<ILoggerProvider, ClientLoggerProvider>();
        // After every registration has filled the tool collection (IConfigureOptions), before the server is built.
        builder.Services.PostConfigure<McpServerOptions>(options =>
        {
            if (!settings.ReadOnly || options.ToolCollection is not { } tools)
                return;
            foreach (var tool in tools.Where(t => t.ProtocolTool.Annotations?.ReadOnlyHint != true).ToList())
            {
                hidden.Names.Add(tool.ProtocolTool.Name);
                tools.Remove(tool);
            }
            if (options.ServerInstructions is { } instructions)
                options.ServerInstructions = instructions + " This server is read-only: the tools that write are not offered.";
        });
        return builder
            .WithRequestFilters(filters => filters.AddCallToolFilter(next => async (request, cancellationToken) =>
            {
                var name = request.Params?.Name ?? "";
                if (hidden.Names.Contains(name))
                {
                    return new CallToolResult
                    {
                        IsError = true,
                        Content = [new TextContentBlock { Text = $"{name} changes data, and this server is read-only (--read-only): the tool is not offered. "
                            + "Nothing was written. Use the tools in tools/list, or restart the server without --read-only to write." }],
                    };
                }
                var call = CallScope.Begin(request.Server);
                try
                {
                    return await next(request, cancellationToken);
                }
                finally
                {
                    CallScope.End();
                    await call.Log.FlushAsync();
                }
            }))
            .WithMessageFilters(filters =>
            {
                filters.AddIncomingFilter(next => (context, cancellationToken) =>
                {
                    if (context.JsonRpcMessage is JsonRpcNotification { Method: NotificationMethods.RootsListChangedNotification })
                        context.Services?.GetService<ClientRoots>()?.Invalidate();
                    return next(context, cancellationToken);
                });
                filters.AddOutgoingFilter(next => (context, cancellationToken) =>
                {
                    // The initialize result (protocol revisions up to 2025-11-25) or the server/discover result (2026-07-28 and later).
                    if (context.JsonRpcMessage is JsonRpcResponse { Result: JsonObject result } && result["capabilities"] is JsonObject capabilities
                        && (result["serverInfo"] is not null || result["supportedVersions"] is not null))
                    {
                        Trim(capabilities, StatelessHttp.In(context.Services));
                    }
                    return next(context, cancellationToken);
                });
            });
    }

    /// <summary>
    /// The advertised capabilities, as delivered: the tool, prompt and resource collections are filled at start and never
    /// change while the server runs, so no list_changed is ever sent (a feature that changes one at run time must
    /// advertise it here).
    /// </summary>
    private static void Trim(JsonObject capabilities, bool statelessHttp)
    {
        foreach (var list in (string[])["tools", "prompts", "resources"])
            (capabilities[list] as JsonObject)?.Remove("listChanged");
        if (statelessHttp)
            capabilities.Remove("logging");
    }
}
