using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Tools;

/// <summary>
/// The tools as tools/list describes them, computed ahead of time and embedded (ToolCatalog.json, a tools/list result).
/// The SDK describes a tool by reflecting over its method, parameters and attributes to build JSON schemas: most of a
/// stdio server's start-up, and a stdio server starts once per session. With the catalog, a tool is described from the
/// file and built by reflection only when first called. ToolCatalogTests compares the file with what the SDK builds
/// (and rewrites it when asked: scripts/tool-catalog.sh), so it cannot drift from the code; a tool missing from the
/// file is built the SDK's way at start.
/// </summary>
internal static class ToolCatalog
{
    public const string ResourceName = "Quilt.Mcp.Tools.ToolCatalog.json";

    private static readonly Lazy<IReadOnlyDictionary<string, Tool>> Catalogued = new(Load);

    private static JsonTypeInfo<ListToolsResult> ResultJson => (JsonTypeInfo<ListToolsResult>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ListToolsResult));

    /// <summary>Registers the <see cref="McpServerToolAttribute"/> methods of <typeparamref name="TTools"/>, as the SDK's WithTools does.</summary>
    /// <param name="fullOutputSchemas">
    /// Describe tools with their whole output schemas (<c>--output-schemas full</c>): built the SDK's way at start, since
    /// the catalog holds the compact listing.
    /// </param>
    public static IMcpServerBuilder WithCataloguedTools<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.PublicConstructors)] TTools>(
        this IMcpServerBuilder builder, JsonSerializerOptions serializerOptions, bool fullOutputSchemas)
        where TTools : class
    {
        foreach (var method in typeof(TTools).GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            if (method.GetCustomAttribute<McpServerToolAttribute>() is not { Name: { } name })
                continue;
            builder.Services.AddSingleton(services =>
            {
                McpServerTool Build() => Create<TTools>(method, services, serializerOptions, fullOutputSchemas);
                return !fullOutputSchemas && Catalogued.Value.TryGetValue(name, out var tool) ? new CataloguedTool(tool, method, Build) : Build();
            });
        }
        return builder;
    }

    /// <summary>The tool as the SDK builds it from its method (a new instance of the tool class serves each call).</summary>
    private static McpServerTool Create<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TTools>(
        MethodInfo method, IServiceProvider? services, JsonSerializerOptions serializerOptions, bool fullOutputSchemas)
        where TTools : class =>
        CompactToolListing.Apply(McpServerTool.Create(method, static request => ActivatorUtilities.CreateInstance<TTools>(request.Services!),
            ToolJson.ToolOptions(services, serializerOptions)), fullOutputSchemas);

    /// <summary>The catalog's text for these tools: a tools/list result, tools in name order, indented and unescaped for review (a file, never HTML).</summary>
    public static string Write(IEnumerable<Tool> tools)
    {
        var result = new ListToolsResult { Tools = [.. tools.OrderBy(t => t.Name, StringComparer.Ordinal)] };
        var indented = new JsonSerializerOptions(McpJsonUtilities.DefaultOptions) { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        return JsonSerializer.Serialize(result, (JsonTypeInfo<ListToolsResult>)indented.GetTypeInfo(typeof(ListToolsResult))) + "\n";
    }

    /// <summary>The tools in the embedded catalog, by name (none if the build has no catalog).</summary>
    public static IReadOnlyDictionary<string, Tool> Load()
    {
        using var stream = typeof(ToolCatalog).Assembly.GetManifestResourceStream(ResourceName);
        if (stream is null)
            return new Dictionary<string, Tool>();
        var result = JsonSerializer.Deserialize(stream, ResultJson)
            ?? throw new InvalidDataException($"The embedded {ResourceName} is empty: run scripts/tool-catalog.sh.");
        return result.Tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>
    /// A tool described from the catalog. The SDK's tool is built on the first call; its metadata (the method and its
    /// attributes, which filters such as ASP.NET Core authorization read when listing) is gathered as the SDK does,
    /// without building it.
    /// </summary>
    private sealed class CataloguedTool(Tool described, MethodInfo method, Func<McpServerTool> build) : McpServerTool
    {
        private readonly Lazy<McpServerTool> _built = new(build);
        private readonly Lazy<IReadOnlyList<object>> _metadata = new(() =>
            [method, .. method.DeclaringType?.GetCustomAttributes() ?? [], .. method.GetCustomAttributes()]);

        public override Tool ProtocolTool => described;

        public override IReadOnlyList<object> Metadata => _metadata.Value;

        public override ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default) =>
            _built.Value.InvokeAsync(request, cancellationToken);
    }
}
