using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>
/// Wraps every tool call: arguments are checked against the tool's schema first, and expected failures (tool errors,
/// storage and package failures, whose messages are written for users) become error results carrying that message. They are
/// logged as one line, not as the SDK's "unhandled exception" with a stack trace.
/// </summary>
internal static class ToolCallFilter
{
    public static McpRequestHandler<CallToolRequestParams, CallToolResult> Create(McpRequestHandler<CallToolRequestParams, CallToolResult> next) =>
        async (request, cancellationToken) =>
        {
            var name = request.Params?.Name ?? "";
            try
            {
                if (request.MatchedPrimitive is McpServerTool tool
                    && ArgumentValidator.Validate(tool.ProtocolTool.InputSchema, request.Params?.Arguments) is { } problem)
                {
                    throw new McpException($"{problem} Nothing was done; call {name} again with corrected arguments.");
                }
                return await next(request, cancellationToken);
            }
            catch (McpException e) when (e is not McpProtocolException)
            {
                return Refuse(request, name, e.Message);
            }
            catch (Quilt.Operations.OperationException e)
            {
                return Refuse(request, name, e.Message);
            }
            catch (StorageException e)
            {
                // A structured error (what failed, why, workarounds, the backend feature needed) follows the sentence.
                return Refuse(request, name, ErrorDetails.MessageWithDetails(e));
            }
            catch (Quilt.Packages.PackageException e)
            {
                return Refuse(request, name, e.Message);
            }
            catch (FormatException e) when (e is Quilt.Core.InvalidNameException or Quilt.Core.Manifests.ManifestFormatException)
            {
                return Refuse(request, name, e.Message);
            }
            catch (JsonException e)
            {
                // Thrown while binding arguments the schema check let through (such as a number too large for its type).
                return Refuse(request, name, $"An argument could not be read: {e.Message} Nothing was done.");
            }
        };

    private static CallToolResult Refuse(RequestContext<CallToolRequestParams> request, string tool, string message)
    {
        var logger = request.Services?.GetService<ILoggerFactory>()?.CreateLogger("quilt-mcp");
        if (logger?.IsEnabled(LogLevel.Information) == true)
            logger.LogInformation("{Tool}: {Message}", tool, message);
        return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = message }] };
    }
}
