using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ModelContextProtocol;

namespace Quilt.Mcp.Models;

// Nulls are written: the output schemas list every property as required (nullable ones as ["type", "null"]), and
// clients that validate structured content against them would reject an object with a property left out.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(BucketsListResult))]
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
[JsonSerializable(typeof(PackageDiffResult))]
[JsonSerializable(typeof(PackageDeleteResult))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class ToolJsonContext : JsonSerializerContext;

/// <summary>Serializer options for the tools: the SDK's defaults with this project's source-generated contracts first.</summary>
public static class ToolJson
{
    public static JsonSerializerOptions Options { get; } = Create();

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
