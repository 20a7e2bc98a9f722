using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;
using ModelContextProtocol;
using ModelContextProtocol.Server;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Models;

// Nulls are written: the output schemas list every property as required (nullable ones as ["type", "null"]), and
// clients that validate structured content against them would reject an object with a property left out.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(BucketsListResult))]
[JsonSerializable(typeof(RoleSwitchResult))]
[JsonSerializable(typeof(PackagePromoteResult))]
[JsonSerializable(typeof(ObjectsListResult))]
[JsonSerializable(typeof(ObjectInfoResult))]
[JsonSerializable(typeof(ObjectTextResult))]
[JsonSerializable(typeof(ObjectFetchResult))]
[JsonSerializable(typeof(ObjectLinkResult))]
[JsonSerializable(typeof(ObjectsPutResult))]
[JsonSerializable(typeof(ObjectCopyResult))]
[JsonSerializable(typeof(ObjectDeleteResult))]
[JsonSerializable(typeof(PutObjectInput))]
[JsonSerializable(typeof(PutObjectInput[]))]
[JsonSerializable(typeof(IReadOnlyList<PutObjectInput>))]
[JsonSerializable(typeof(PackageSourceInput))]
[JsonSerializable(typeof(PackageSourceInput[]))]
[JsonSerializable(typeof(PackageNameList))]
[JsonSerializable(typeof(PackageRevisionList))]
[JsonSerializable(typeof(PackageBrowseResult))]
[JsonSerializable(typeof(PackageRevisionResult))]
[JsonSerializable(typeof(PackageDeleteResult))]
[JsonSerializable(typeof(Quilt.Mcp.Resources.ResourceReadResult))]
[JsonSerializable(typeof(PackageLinkResult))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(Quilt.Tables.TableQueryResult))]
[JsonSerializable(typeof(Quilt.Tables.TableRowsResult))]
[JsonSerializable(typeof(Quilt.Tables.TableDescribeResult))]
[JsonSerializable(typeof(Quilt.Tables.TableInput[]))]
[JsonSerializable(typeof(Quilt.Tables.TableRowFilter[]))]
[JsonSerializable(typeof(Quilt.Operations.Search.PackageSearchResult))]
[JsonSerializable(typeof(Quilt.Operations.Search.ObjectSearchResult))]
[JsonSerializable(typeof(Quilt.Operations.Search.MetadataFilter[]))]
[JsonSerializable(typeof(long?))]
[JsonSerializable(typeof(DateTimeOffset?))]
internal sealed partial class ToolJsonContext : JsonSerializerContext;

/// <summary>Serializer options for the tools: the SDK's defaults with this project's source-generated contracts first.</summary>
public static class ToolJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>How every tool is built (by the server, the catalog and its tests alike): these serializer options and schema rules.</summary>
    public static McpServerToolCreateOptions ToolOptions(IServiceProvider? services = null, JsonSerializerOptions? serializerOptions = null) => new()
    {
        Services = services,
        SerializerOptions = serializerOptions ?? Options,
        SchemaCreateOptions = SchemaOptions,
    };

    private static readonly AIJsonSchemaCreateOptions SchemaOptions = new() { TransformSchemaNode = (context, schema) => DropNullDefault(MarkNullableCells(context, schema)) };

    // An optional argument left out is null anyway: "default": null on each of them only lengthens tools/list.
    private static JsonNode DropNullDefault(JsonNode schema)
    {
        if (schema is JsonObject node && node.TryGetPropertyValue("default", out var value) && value is null)
            node.Remove("default");
        return schema;
    }

    // Nullable annotations on generic arguments are invisible at run time, so `IReadOnlyList<IReadOnlyList<string?>>`
    // comes out as arrays of non-null strings, and clients that validate structured content reject a null cell.
    private static JsonNode MarkNullableCells(AIJsonSchemaCreateContext context, JsonNode schema)
    {
        if (context.GetCustomAttribute<NullableCellsAttribute>() is null || schema is not JsonObject)
            return schema;
        var node = schema;
        while (node is JsonObject { } level && level["items"] is JsonObject items)
            node = items;
        if (node is JsonObject leaf && leaf["type"] is JsonValue type && type.TryGetValue<string>(out var name) && name != "null")
            leaf["type"] = new JsonArray(name, "null");
        return schema;
    }

    private static JsonSerializerOptions Create()
    {
        // Relaxed escaping keeps non-ASCII keys and text readable in the JSON text a tool result carries.
        var options = new JsonSerializerOptions(McpJsonUtilities.DefaultOptions)         {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        options.TypeInfoResolverChain.Insert(0, ToolJsonContext.Default);
        options.MakeReadOnly();
        return options;
    }

    public static JsonElement ToElement<T>(T value) =>
        JsonSerializer.SerializeToElement(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T)));
}
