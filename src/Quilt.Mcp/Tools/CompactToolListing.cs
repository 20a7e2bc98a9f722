using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Quilt.Mcp.Tools;

/// <summary>
/// What tools/list says of a tool, cut to what a client uses (issue 14: all tools within 24,660 bytes, sent to the model
/// at every session). Applied to every tool as it is built, so the catalog, the server and the tests agree:
/// <list type="bullet">
/// <item>The output schema is only its root type: a model reads the result itself, not a schema of it (field names and
/// types would cost ~6 KB over all tools; see docs/mcp.md). A client that validates structuredContent field by field
/// asks for the whole schemas (<c>--output-schemas full</c>), and the end-to-end tests validate against those.</item>
/// <item>Parameters keep their one-line descriptions; fields inside a parameter do not (the parameter's description says
/// its shape).</item>
/// <item>An optional property that defaults to nothing is typed without "null": leaving it out says the same, and
/// <see cref="ArgumentValidator"/> takes an explicit null for it as left out.</item>
/// <item>annotations.title repeats the tool's title; destructiveHint and idempotentHint mean nothing for a read-only tool (MCP
/// spec), so they are left out there.</item>
/// </list>
/// </summary>
internal static class CompactToolListing
{
    /// <param name="fullOutputSchema">Keep the output schema whole (<c>--output-schemas full</c>).</param>
    public static McpServerTool Apply(McpServerTool tool, bool fullOutputSchema = false)
    {
        Apply(tool.ProtocolTool, fullOutputSchema);
        return tool;
    }

    /// <param name="fullOutputSchema">Keep the output schema whole (<c>--output-schemas full</c>).</param>
    public static void Apply(Tool tool, bool fullOutputSchema = false)
    {
        tool.InputSchema = CompactInput(tool.InputSchema);
        if (!fullOutputSchema && tool.OutputSchema is { ValueKind: JsonValueKind.Object } output && output.TryGetProperty("type", out var type))
            tool.OutputSchema = Element(new JsonObject { ["type"] = JsonNode.Parse(type.GetRawText()) });
        if (tool.Annotations is { } annotations)
        {
            annotations.Title = null;
            if (annotations.ReadOnlyHint == true)
            {
                annotations.DestructiveHint = null;
                annotations.IdempotentHint = null;
            }
        }
    }

    private static JsonElement CompactInput(JsonElement schema)
    {
        if (JsonNode.Parse(schema.GetRawText()) is not JsonObject root)
            return schema;
        CompactObject(root, nested: false);
        return Element(root);
    }

    private static JsonElement Element(JsonNode node)
    {
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }

    /// <param name="nested">Whether these are the fields of a parameter (no descriptions) rather than the parameters.</param>
    private static void CompactObject(JsonObject schema, bool nested)
    {
        if (schema["properties"] is JsonObject properties)
        {
            var required = (schema["required"] as JsonArray)?.Select(n => n?.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
            foreach (var (name, node) in properties)
            {
                if (node is not JsonObject property)
                    continue;
                if (nested)
                    property.Remove("description");
                if (!required.Contains(name) && !property.ContainsKey("default"))
                    DropNull(property);
                CompactValue(property);
            }
        }
        if (schema["additionalProperties"] is JsonObject values)
            CompactValue(values);
    }

    /// <summary>A parameter's or field's own shape: the fields of an object, the items of an array (an item is never null).</summary>
    private static void CompactValue(JsonObject schema)
    {
        CompactObject(schema, nested: true);
        if (schema["items"] is JsonObject items)
        {
            DropNull(items);
            CompactValue(items);
        }
    }

    private static void DropNull(JsonObject schema)
    {
        if (schema["type"] is not JsonArray types)
            return;
        var kept = types.Select(t => t?.GetValue<string>()).Where(t => t is not null and not "null").ToList();
        if (kept.Count == types.Count || kept.Count == 0)
            return;
        schema["type"] = kept.Count == 1 ? JsonValue.Create(kept[0]) : new JsonArray([.. kept.Select(t => (JsonNode?)JsonValue.Create(t))]);
    }
}
