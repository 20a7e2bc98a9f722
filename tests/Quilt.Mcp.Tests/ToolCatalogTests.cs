using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Models;
using Quilt.Mcp.Tools;
using Quilt.Operations.Models;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>
/// The server lists its tools from the embedded catalog (src/Quilt.Mcp/Tools/ToolCatalog.json) instead of building
/// their schemas by reflection at start. Clients must see exactly what the SDK would have built from the code.
/// </summary>
public sealed class ToolCatalogTests : IDisposable
{
    /// <summary>Set to 1 (scripts/tool-catalog.sh does) to rewrite the catalog from the code instead of failing.</summary>
    private const string UpdateVariable = "QUILT_UPDATE_TOOL_CATALOG";

    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Every_tool_is_described_annotated_and_has_an_output_schema()
    {
        await using var mcp = await McpHarness.StartAsync(TestData.Settings("data"), new LocalFolderStore(_root.Path));
        var tools = await mcp.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var names = tools.Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["bucket_object_copy", "bucket_object_delete", "bucket_object_fetch", "bucket_object_info", "bucket_object_link", "bucket_object_text",
                "bucket_objects_list", "bucket_objects_put", "buckets_list", "get_resource",
                "package_browse", "package_create", "package_diff", "package_entry_fetch", "package_entry_text", "package_link", "package_list",
                "package_patch", "package_promote", "package_revision_delete", "package_revisions", "role_switch", "search_objects", "search_packages",
                "table_describe", "table_query", "table_rows"],
            names);
        foreach (var tool in tools.Select(t => t.ProtocolTool))
        {
            Assert.False(string.IsNullOrWhiteSpace(tool.Description), tool.Name);
            var a = tool.Annotations;
            Assert.NotNull(a);
            Assert.NotNull(a.ReadOnlyHint);
            Assert.NotNull(a.OpenWorldHint);
            var writes = tool.Name is "bucket_objects_put" or "bucket_object_copy" or "bucket_object_delete"
                or "package_create" or "package_patch" or "package_revision_delete" or "package_promote" or "role_switch";
            // Publishing a revision adds to a package's history (a role switch changes only who acts); only deleting a
            // revision (or overwriting objects) destroys.
            var destroys = writes && tool.Name is not ("package_create" or "package_patch" or "package_promote" or "role_switch");
            Assert.Equal(!writes, a.ReadOnlyHint);
            // The spec gives destructiveHint and idempotentHint meaning only for tools that write: only they carry them.
            Assert.Equal(writes ? destroys : null, a.DestructiveHint);
            Assert.Equal(writes, a.IdempotentHint is not null);
            // package_diff answers in text only (CompactResults.Diff says why), so it has no output schema.
            Assert.Equal(tool.Name != "package_diff", tool.OutputSchema is not null);
            foreach (var property in tool.InputSchema.GetProperty("properties").EnumerateObject())
                Assert.True(property.Value.TryGetProperty("description", out _), $"{tool.Name}.{property.Name} has no description");
        }
        // Required arguments are declared as such.
        var info = tools.Single(t => t.Name == "bucket_object_info").ProtocolTool;
        Assert.Equal(["uri"], info.InputSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
    }

    /// <summary>Issue 14: tools/list is sent to the model at every session; its budget is half of the 49,321 bytes it once was.</summary>
    public const int ToolListBudget = 24_660;

    [Fact]
    public async Task Tools_list_stays_within_its_budget_of_bytes()
    {
        await using var mcp = await McpHarness.StartAsync(TestData.Settings("data"), new LocalFolderStore(_root.Path));
        var tools = (await mcp.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.ProtocolTool).ToList();

        // Compact JSON, as a server writes it on the wire.
        var bytes = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(new ListToolsResult { Tools = tools }, ListJson));
        var largest = tools.Select(t => (t.Name, Bytes: Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(t, ToolJsonInfo))))
            .OrderByDescending(t => t.Bytes).Take(5).Select(t => $"{t.Name} {t.Bytes:N0} B");
        Assert.True(bytes <= ToolListBudget,
            $"tools/list is {bytes:N0} bytes for {tools.Count} tools, over its budget of {ToolListBudget:N0}. Largest: {string.Join(", ", largest)}. "
            + "Shorten descriptions (one or two sentences per tool, one short line per parameter; details go to docs/mcp.md).");
    }

    [Fact]
    public async Task Output_schemas_full_lists_each_tools_whole_output_schema_and_the_default_only_its_type()
    {
        await using var full = await McpHarness.StartAsync(TestData.Settings("data") with { FullOutputSchemas = true }, new LocalFolderStore(_root.Path));
        await using var compact = await McpHarness.StartAsync(TestData.Settings("data"), new LocalFolderStore(_root.Path));
        var whole = (await full.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).ToDictionary(t => t.Name, t => t.ProtocolTool);
        var listed = await compact.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(listed.Select(t => t.Name).Order(StringComparer.Ordinal), whole.Keys.Order(StringComparer.Ordinal));
        foreach (var tool in listed.Select(t => t.ProtocolTool))
        {
            if (tool.Name != "package_diff") // text only: no output schema either way
            {
                Assert.Single(tool.OutputSchema!.Value.EnumerateObject());
                var schema = whole[tool.Name].OutputSchema!.Value;
                Assert.True(schema.TryGetProperty("properties", out var fields) && fields.EnumerateObject().Any(), $"{tool.Name}: no fields in its full output schema");
            }
            // Only the output schema differs: the input schema and description are the compact ones either way.
            Assert.Equal(tool.InputSchema.GetRawText(), whole[tool.Name].InputSchema.GetRawText());
        }
        Assert.Contains("\"rows\"", whole["table_rows"].OutputSchema!.Value.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Output_schemas_give_the_root_type_and_fields_inside_a_parameter_no_description()
    {
        foreach (var tool in ToolCatalog.Load().Values)
        {
            if (tool.Name != "package_diff")
            {
                var output = Assert.Single(tool.OutputSchema!.Value.EnumerateObject());
                Assert.Equal(("type", "object"), (output.Name, output.Value.GetString()));
            }
            foreach (var parameter in tool.InputSchema.GetProperty("properties").EnumerateObject())
                Assert.DoesNotContain("\"description\"", FieldsOf(parameter.Value), StringComparison.Ordinal);
            Assert.Null(tool.Annotations!.Title);
        }

        static string FieldsOf(JsonElement parameter) =>
            (parameter.TryGetProperty("items", out var items) ? items.GetRawText() : "")
            + (parameter.TryGetProperty("properties", out var properties) ? properties.GetRawText() : "")
            + (parameter.TryGetProperty("additionalProperties", out var values) ? values.GetRawText() : "");
    }

    [Fact]
    public async Task An_explicit_null_for_an_optional_argument_is_taken_as_left_out()
    {
        Directory.CreateDirectory(Path.Join(_root.Path, "data"));
        await File.WriteAllTextAsync(Path.Join(_root.Path, "data", "a.txt"), "x", TestContext.Current.CancellationToken);
        await using var mcp = await McpHarness.StartAsync(TestData.Settings("data"), new LocalFolderStore(_root.Path));

        // prefix and cursor are listed as strings (no "null" in their type), yet a client that sends null is not refused.
        var tool = (await mcp.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Single(t => t.Name == "bucket_objects_list");
        Assert.Equal("string", tool.ProtocolTool.InputSchema.GetProperty("properties").GetProperty("prefix").GetProperty("type").GetString());
        var listed = await mcp.CallAsync("bucket_objects_list", """{"bucket": "data", "prefix": null, "cursor": null}""");
        Assert.False(listed.IsError == true, McpHarness.Text(listed));
        // A parameter with a default still refuses null, as before: null is not a page size.
        var refused = await mcp.CallAsync("bucket_objects_list", """{"bucket": "data", "pageSize": null}""");
        Assert.True(refused.IsError);
        Assert.Contains("'pageSize' must be an integer", McpHarness.Text(refused), StringComparison.Ordinal);
    }

    private static JsonTypeInfo<ListToolsResult> ListJson => (JsonTypeInfo<ListToolsResult>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ListToolsResult));

    private static JsonTypeInfo<Tool> ToolJsonInfo => (JsonTypeInfo<Tool>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Tool));

    [Fact]
    public void The_catalog_describes_every_tool_as_the_SDK_builds_it_from_the_code()
    {
        var built = ToolCatalog.Write(ToolMethods.All().Select(m => ToolMethods.Build(m).ProtocolTool));
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            var root = Repository.FindRoot() ?? throw new InvalidOperationException("No clone above the test binaries to write the catalog into.");
            File.WriteAllText(Path.Join(root, "src", "Quilt.Mcp", "Tools", "ToolCatalog.json"), built);
            return;
        }
        var catalogued = ToolCatalog.Write(ToolCatalog.Load().Values);
        if (built == catalogued)
            return;
        Assert.Fail("src/Quilt.Mcp/Tools/ToolCatalog.json no longer matches the tools in the code (a tool, parameter or description changed). "
            + "Run scripts/tool-catalog.sh to rewrite it, and review the change.\n" + FirstDifference(catalogued, built));
    }

    [Theory]
    [InlineData("2025-06-18")]
    [InlineData("2025-11-25")]
    [InlineData(null)] // the newest version the SDK speaks
    public async Task Clients_list_the_same_tools_as_from_a_server_that_builds_them_by_reflection(string? protocolVersion)
    {
        var store = new LocalFolderStore(_root.Path);
        var settings = TestData.Settings("data");
        var client = new McpClientOptions { ProtocolVersion = protocolVersion };

        string catalogued, reflected;
        await using (var product = await McpHarness.StartAsync(settings, store, clientOptions: client))
            catalogued = await ListedAsync(product.Client);
        // The reference builds every tool by reflection at start, with the same options the server builds them with.
        await using (var reference = await McpHarness.StartAsync(settings, store, clientOptions: client, addServer: services => services
                         .AddMcpServer()
                         .WithTools(ToolMethods.All().Select(ToolMethods.Build))))
            reflected = await ListedAsync(reference.Client);

        Assert.Equal(reflected, catalogued);
    }

    [Fact]
    public async Task A_catalogued_tool_carries_the_metadata_the_SDK_gives_it()
    {
        var store = new LocalFolderStore(_root.Path);
        await using var mcp = await McpHarness.StartAsync(TestData.Settings("data"), store);
        var tools = mcp.Services.GetServices<McpServerTool>().ToList();

        Assert.Equal(ToolMethods.All().Count(), tools.Count);
        foreach (var method in ToolMethods.All())
        {
            var name = method.GetCustomAttribute<McpServerToolAttribute>()!.Name;
            var served = tools.Single(t => t.ProtocolTool.Name == name);
            var reflected = ToolMethods.Build(method);
            Assert.Equal(reflected.Metadata.Select(Describe), served.Metadata.Select(Describe));
        }

        static string Describe(object item) => item is MethodInfo m ? $"{m.DeclaringType!.Name}.{m.Name}" : item.GetType().FullName!;
    }

    private static async Task<string> ListedAsync(McpClient client)
    {
        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        return JsonSerializer.Serialize(tools.Select(t => t.ProtocolTool).OrderBy(t => t.Name, StringComparer.Ordinal).ToList(),
            McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(List<Tool>)));
    }

    private static string FirstDifference(string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        for (var i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            var e = i < expectedLines.Length ? expectedLines[i] : "(end)";
            var a = i < actualLines.Length ? actualLines[i] : "(end)";
            if (e != a)
                return $"First difference at line {i + 1}:\n  catalog: {e.Trim()}\n  code:    {a.Trim()}";
        }
        return "";
    }
}
