using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>
/// Wraps every tool call: arguments are checked against the tool's schema first, and storage failures (whose
/// messages are written for users) become tool errors with that message instead of the SDK's generic text.
/// </summary>
internal static class ToolCallFilter
{
    public static McpRequestHandler<CallToolRequestParams, CallToolResult> Create(McpRequestHandler<CallToolRequestParams, CallToolResult> next) =>
        async (request, cancellationToken) =>
        {
            if (request.MatchedPrimitive is McpServerTool tool
                && ArgumentValidator.Validate(tool.ProtocolTool.InputSchema, request.Params?.Arguments) is { } problem)
            {
                throw new McpException($"{problem} Nothing was done; call {tool.ProtocolTool.Name} again with corrected arguments.");
            }
            try
            {
                return await next(request, cancellationToken);
            }
            catch (StorageException e)
            {
                throw new McpException(e.Message, e);
            }
            catch (JsonException e)
            {
                // Thrown while binding arguments the schema check let through (such as a number too large for its type).
                throw new McpException($"An argument could not be read: {e.Message}", e);
            }
        };
}
