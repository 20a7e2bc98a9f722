using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Models;
using Quilt.Mcp.Resources;

namespace Quilt.Mcp.Tools;

/// <summary>The resources as a tool, for clients that cannot read resources themselves.</summary>
[McpServerToolType]
public sealed class ResourceTools(ResourceReader reader)
{
    [McpServerTool(Name = "get_resource", Title = "Read a resource", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ResourceReadResult))]
    [Description("Read a resource (s3://, quilt+s3:// or quilt-mcp:// URI) as resources/read does, for clients without resource support.")]
    public async Task<CallToolResult> GetResource(
        [Description("The resource URI, as a tool or resources/list gave it.")] string uri,
        CancellationToken cancellationToken = default)
    {
        var contents = await reader.ReadAsync(uri, cancellationToken);
        // Text as text content (any client shows it); bytes as the embedded blob resources/read returns.
        ContentBlock body = contents is TextResourceContents text
            ? new TextContentBlock { Text = text.Text }
            : new EmbeddedResourceBlock { Resource = contents };
        var size = contents is BlobResourceContents blob ? blob.DecodedData.Length : System.Text.Encoding.UTF8.GetByteCount(((TextResourceContents)contents).Text);
        return new CallToolResult
        {
            Content = [body],
            StructuredContent = ToolJson.ToElement(new ResourceReadResult(contents.Uri, contents.MimeType, size, contents is TextResourceContents)),
        };
    }
}
