using System.Text;
using System.Text.Json.Nodes;
using Quilt.Packages.Workflows;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>
/// The configs of quilt3's own workflow tests (api/python/tests/integration/test_workflows.py: one workflow w1 whose
/// metadata_schema is schema-id, given by URL), with quilt3's texts for what each test expects: a schema that is not
/// JSON, one that cannot be loaded, metadata that fails or passes {"type": "string"}, and a config that is not YAML.
/// </summary>
public sealed class WorkflowQuilt3ShapeTests : IDisposable
{
    private const string Bucket = "reg";
    private readonly TempDirectory _scratch = new("quilt-pkg-wf3");
    private readonly LocalFolderStore _store;
    private readonly PackageRegistry _registry;
    private readonly PackageService _service;

    public WorkflowQuilt3ShapeTests()
    {
        _store = new LocalFolderStore(_scratch.Combine("root"));
        _registry = new PackageRegistry(_store, Bucket);
        _service = new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: true));
    }

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // quilt3's get_v1_conf_data: version "1" before the workflows part.
    private static string V1(string url) => $"""
        version: "1"
        workflows:
          w1:
            name: Name
            metadata_schema: schema-id
        schemas:
          schema-id:
            url: {url}
        """;

    private async Task<string> ConfigWithSchemaAsync(string schemaText)
    {
        var url = await WorkflowConfigs.PutSchemaAsync(_store, Bucket, "schema.json", schemaText, Ct);
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, V1(url), Ct);
        return url;
    }

    private Task<PackageWriteResult> CreateAsync(string name, JsonNode? meta, WorkflowChoice workflow) =>
        _service.CreateAsync(_registry, new CreatePackageRequest(name, [new InlineSource("a.txt", Encoding.UTF8.GetBytes("a"))])
        {
            Message = "m",
            UserMeta = meta,
            Workflow = workflow,
        }, null, Ct);

    private async Task<WorkflowException> RefusedAsync(JsonNode? meta, WorkflowChoice workflow)
    {
        var name = $"u/p{Guid.NewGuid():N}"[..12];
        var error = await Assert.ThrowsAsync<WorkflowException>(() => CreateAsync(name, meta, workflow));
        await Assert.ThrowsAsync<PackageNotFoundException>(() => _registry.ListRevisionsAsync(name, Ct));
        return error;
    }

    [Fact]
    public async Task test_schema_invalid_json()
    {
        var url = await ConfigWithSchemaAsync("\"");
        var error = await RefusedAsync(null, WorkflowChoice.Named("w1"));
        Assert.StartsWith($"Couldn't parse {url} as JSON.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task test_schema_load_error()
    {
        var missing = _store.ToPhysicalKey(new ObjectRef(Bucket, "nonexistent-schema"));
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, V1(missing), Ct);
        var error = await RefusedAsync(null, WorkflowChoice.Named("w1"));
        Assert.StartsWith($"Couldn't load schema at {missing}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task test_schema_validation_invalid_meta_and_valid_meta()
    {
        await ConfigWithSchemaAsync("""{"type": "string"}""");
        // quilt3 validates Package.meta, {} when none was set.
        var error = await RefusedAsync(null, WorkflowChoice.Named("w1"));
        Assert.StartsWith("Metadata failed validation: {} is not of type 'string'.", error.Message, StringComparison.Ordinal);
        var dict = await RefusedAsync(new JsonObject { ["a"] = 1 }, WorkflowChoice.Named("w1"));
        Assert.StartsWith("Metadata failed validation: {'a': 1} is not of type 'string'.", dict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task test_schema_invalid_schema()
    {
        await ConfigWithSchemaAsync("\"\"");
        var error = await RefusedAsync(null, WorkflowChoice.Named("w1"));
        Assert.StartsWith("Schema 'schema-id' is not valid:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task test_conf_invalid_yaml_for_every_workflow_choice()
    {
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, ",", Ct);
        foreach (var workflow in new[] { WorkflowChoice.Default, WorkflowChoice.Named("some-string"), WorkflowChoice.Parse("") })
        {
            var error = await RefusedAsync(null, workflow);
            Assert.StartsWith("Couldn't parse workflows config as YAML.", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task test_missing_workflow_and_missing_schema()
    {
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, """
            version: "1"
            workflows:
              w1:
                name: Name
                metadata_schema: schema-id
            """, Ct);
        var missingWorkflow = await RefusedAsync(null, WorkflowChoice.Named("w2"));
        Assert.StartsWith("There is no 'w2' workflow in config.", missingWorkflow.Message, StringComparison.Ordinal);
        var missingSchema = await RefusedAsync(null, WorkflowChoice.Named("w1"));
        Assert.StartsWith("There is no 'schema-id' in schemas.", missingSchema.Message, StringComparison.Ordinal);
    }
}
