using System.Text.Json.Nodes;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>
/// package_create and package_patch in a versioned S3 bucket with a .quilt/workflows/config.yml: quilt3 8.0.0's refusals
/// as tool errors with nothing published, workflow as a name ("" for none), and the workflow object recorded with the
/// config's and schema's version ids.
/// </summary>
public sealed class PackageWriteToolsWorkflowTests : IAsyncLifetime
{
    private McpHarness _mcp = null!;
    private IObjectStore _store = null!;
    private string _bucket = "";
    private S3TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await S3TestServer.GetAsync();
        _bucket = await _server.CreateBucketAsync(versioned: true, Ct);
        _store = _server.CreateStore();
        var project = await WorkflowConfigs.PutSchemaAsync(_store, _bucket, "project.json", WorkflowConfigs.ProjectSchema, Ct);
        var small = await WorkflowConfigs.PutSchemaAsync(_store, _bucket, "small.json", WorkflowConfigs.SmallEntriesSchema, Ct);
        await WorkflowConfigs.PutConfigAsync(_store, _bucket, WorkflowConfigs.Config(project, small, defaultWorkflow: "beta"), Ct);
        _mcp = await McpHarness.StartAsync(TestData.Settings(_bucket), _store);
    }

    public async ValueTask DisposeAsync()
    {
        await _mcp.DisposeAsync();
        (_store as IDisposable)?.Dispose();
    }

    private static string Create(string package, string? workflow, JsonObject? metadata, string? message = "m")
    {
        var args = new JsonObject
        {
            ["package"] = package,
            ["sources"] = new JsonArray(new JsonObject { ["logicalKey"] = "a.txt", ["text"] = "hello" }),
            ["message"] = message,
        };
        if (workflow is not null)
            args["workflow"] = workflow;
        if (metadata is not null)
            args["metadata"] = metadata;
        return args.ToJsonString();
    }

    private async Task AssertNothingPublishedAsync(string package)
    {
        await Assert.ThrowsAsync<PackageNotFoundException>(() => new PackageRegistry(_store, _bucket).ListRevisionsAsync(package, Ct));
        var listed = await _server.Client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = _bucket, Prefix = package + "/" }, Ct);
        Assert.Empty(listed.S3Objects ?? []);
    }

    [Theory]
    [InlineData(null, "{\"year\": 2024}", "m", "Metadata failed validation: 'project' is a required property.")]
    [InlineData("alpha", null, null, "Commit message is required by workflow, but none was provided.")]
    [InlineData("omega", null, "m", "There is no 'omega' workflow in config.")]
    [InlineData("", null, "m", "Workflow required, but none specified.")]
    public async Task Package_create_refuses_what_the_workflow_refuses(string? workflow, string? metadata, string? message, string expected)
    {
        var error = await _mcp.CallErrorAsync("package_create", Create("u/p", workflow, metadata is null ? null : (JsonObject)JsonNode.Parse(metadata)!, message));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        await AssertNothingPublishedAsync("u/p");
    }

    [Fact]
    public async Task Package_create_records_the_workflow_with_version_ids_and_patch_validates_too()
    {
        var created = await _mcp.CallOkAsync<PackageRevisionResult>("package_create", Create("u/p", null, new JsonObject { ["project"] = "x" }));
        var registry = new PackageRegistry(_store, _bucket);
        var (_, manifest) = await registry.BrowseAsync("u/p", created.TopHash, Ct);
        var configVersion = (await _server.Client.GetObjectMetadataAsync(_bucket, WorkflowConfigs.ConfigKey, Ct)).VersionId;
        var schemaVersion = (await _server.Client.GetObjectMetadataAsync(_bucket, ".quilt/workflows/project.json", Ct)).VersionId;
        Assert.Equal(
            $$$"""{"id":"beta","config":"s3://{{{_bucket}}}/.quilt/workflows/config.yml?versionId={{{configVersion}}}","schemas":{"project":"s3://{{{_bucket}}}/.quilt/workflows/project.json?versionId={{{schemaVersion}}}"}}""",
            manifest.Workflow!.ToJsonString());

        var refused = await _mcp.CallErrorAsync("package_patch", """{"package": "u/p", "metadata": {"other": 1}, "message": "m2"}""");
        Assert.Contains("Metadata failed validation: 'project' is a required property.", refused, StringComparison.Ordinal);
        Assert.Equal(created.TopHash, await registry.ResolveTopHashAsync("u/p", null, Ct));

        var patched = await _mcp.CallOkAsync<PackageRevisionResult>("package_patch", """{"package": "u/p", "workflow": "alpha", "message": "now alpha"}""");
        var (_, after) = await registry.BrowseAsync("u/p", patched.TopHash, Ct);
        Assert.Equal("alpha", after.Workflow!["id"]!.GetValue<string>());
    }
}
