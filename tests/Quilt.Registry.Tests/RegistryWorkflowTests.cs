using System.Text.Json.Nodes;
using Quilt.Packages;
using Quilt.Packages.Workflows;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>
/// Workflows in registry mode: the client reads the config through the registry (browsing sessions) and validates as
/// quilt3 does; the registry (here quilt-gateway's packageConstruct) applies the same rules itself, so a JWT user sending
/// packageConstruct directly gets the same refusals, and the workflow object both record is the same (the top hash check).
/// </summary>
public sealed class RegistryWorkflowTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task WriteConfigAsync()
    {
        // Written with S3 credentials: the gateway takes no uploads under .quilt/.
        using var s3 = fx.S3.CreateStore();
        var project = await WorkflowConfigs.PutSchemaAsync(s3, fx.Workflows, "project.json", WorkflowConfigs.ProjectSchema, Ct);
        var small = await WorkflowConfigs.PutSchemaAsync(s3, fx.Workflows, "small.json", WorkflowConfigs.SmallEntriesSchema, Ct);
        await WorkflowConfigs.PutConfigAsync(s3, fx.Workflows, WorkflowConfigs.Config(project, small, defaultWorkflow: "beta"), Ct);
    }

    [Fact]
    public async Task The_client_and_the_registry_record_the_same_workflow_and_refuse_the_same_metadata()
    {
        await WriteConfigAsync();
        var store = fx.Store("writer");
        var registry = RegistryFixture.RegistryOf(store, fx.Workflows);
        var service = new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false));
        var name = $"team/wf{Guid.NewGuid():N}"[..20];

        var refused = await Assert.ThrowsAsync<WorkflowException>(() => service.CreateAsync(registry, new CreatePackageRequest(name,
            [new InlineSource("a.txt", "a"u8.ToArray())]) { Message = "m", UserMeta = new JsonObject { ["year"] = 2024 } }, null, Ct));
        Assert.StartsWith("Metadata failed validation: 'project' is a required property.", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PackageNotFoundException>(() => registry.ListRevisionsAsync(name, Ct));
        var uploaded = await fx.RawS3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = fx.Workflows, Prefix = name + "/" }, Ct);
        Assert.Empty(uploaded.S3Objects ?? []);

        // Published: the registry recomputed {id, config, schemas} from the same versions, or the publisher's top hash check fails.
        var created = await service.CreateAsync(registry, new CreatePackageRequest(name, [new InlineSource("a.txt", "a"u8.ToArray())])
        {
            Message = "m",
            UserMeta = new JsonObject { ["project"] = "x" },
        }, null, Ct);
        var configVersion = (await fx.RawS3.GetObjectMetadataAsync(fx.Workflows, WorkflowConfigs.ConfigKey, Ct)).VersionId;
        Assert.Equal($"s3://{fx.Workflows}/.quilt/workflows/config.yml?versionId={configVersion}", created.Manifest.Workflow!["config"]!.GetValue<string>());
        Assert.Equal("beta", created.Manifest.Workflow["id"]!.GetValue<string>());
        var (hash, read) = await registry.BrowseAsync(name, null, Ct);
        Assert.Equal(created.Manifest.TopHash, hash);
        Assert.Equal(created.Manifest.Workflow.ToJsonString(), read.Workflow!.ToJsonString());
    }

    public static TheoryData<string?, string?, string> DirectRefusals => new()
    {
        // params.workflow as Quilt's PackagePushParams has it: null takes the default (beta), "" none, else a name.
        { null, null, "Metadata failed validation: 'project' is a required property." },
        { "", null, "Workflow required, but none specified." },
        { "omega", null, "There is no 'omega' workflow in config." },
        { "alpha", null, "Commit message is required by workflow, but none was provided." },
        { "delta", "m", "Package entries failed validation: 13 is greater than the maximum of 10." },
    };

    [Theory]
    [MemberData(nameof(DirectRefusals))]
    public async Task A_jwt_user_calling_packageConstruct_directly_gets_quilt3s_refusals(string? workflow, string? message, string expected)
    {
        await WriteConfigAsync();
        var key = $"wf-src-{Guid.NewGuid():N}/big.txt";
        using (var s3 = fx.S3.CreateStore())
            await WorkflowConfigs.PutTextAsync(s3, fx.Workflows, key, "0123456789ABC", Ct);
        var store = fx.Store("writer");
        var name = $"team/wf{Guid.NewGuid():N}"[..20];
        var parameters = new JsonObject { ["bucket"] = fx.Workflows, ["name"] = name, ["message"] = message };
        if (workflow is not null)
            parameters["workflow"] = workflow;
        var data = await store.Client.ExecuteAsync(RegistryOperations.PackageConstruct, new JsonObject
        {
            ["params"] = parameters,
            ["src"] = new JsonObject { ["entries"] = new JsonArray(new JsonObject { ["logicalKey"] = "big.txt", ["physicalKey"] = $"s3://{fx.Workflows}/{key}" }) },
        }, "construct", Ct);
        var result = data["packageConstruct"]!;
        Assert.Equal("InvalidInput", result["__typename"]!.GetValue<string>());
        Assert.StartsWith(expected, result["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        using var direct = fx.S3.CreateStore();
        await Assert.ThrowsAsync<PackageNotFoundException>(() => new PackageRegistry(direct, fx.Workflows).ListRevisionsAsync(name, Ct));
    }
}
