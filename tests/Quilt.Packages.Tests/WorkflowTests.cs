using System.Text;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using Quilt.Packages.Workflows;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>
/// Workflows as quilt3 8.0.0 applies them (quilt3/workflows/__init__.py): the expected refusals are quilt3's own texts,
/// the recorded <c>workflow</c> object is quilt3's data_to_store ({id, config, schemas}, effective physical keys), and a
/// refused revision leaves no revision and no data behind.
/// </summary>
public sealed class WorkflowTests : IDisposable
{
    private const string Bucket = "reg";
    private readonly TempDirectory _scratch = new("quilt-pkg-wf");
    private readonly LocalFolderStore _store;
    private readonly PackageRegistry _registry;
    private readonly PackageService _service;

    public WorkflowTests()
    {
        _store = new LocalFolderStore(_scratch.Combine("root"));
        _registry = new PackageRegistry(_store, Bucket);
        _service = new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: true));
    }

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(string Project, string Small)> WriteStandardConfigAsync(bool? required = null, string? defaultWorkflow = null)
    {
        var project = await WorkflowConfigs.PutSchemaAsync(_store, Bucket, "project.json", WorkflowConfigs.ProjectSchema, Ct);
        var small = await WorkflowConfigs.PutSchemaAsync(_store, Bucket, "small.json", WorkflowConfigs.SmallEntriesSchema, Ct);
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, WorkflowConfigs.Config(project, small, required, defaultWorkflow), Ct);
        return (project, small);
    }

    private string ConfigKey => _store.ToPhysicalKey(new ObjectRef(Bucket, WorkflowConfigs.ConfigKey));

    private static CreatePackageRequest Request(string name, WorkflowChoice workflow, string? message = "m", JsonNode? meta = null, params (string Key, string Text)[] files) =>
        new(name, (files.Length == 0 ? [("a.txt", "hello")] : files).Select(f => (EntrySource)new InlineSource(f.Key, Encoding.UTF8.GetBytes(f.Text))).ToList())
        {
            Message = message,
            UserMeta = meta,
            Workflow = workflow,
        };

    private async Task AssertNothingPublishedAsync(string name)
    {
        await Assert.ThrowsAsync<PackageNotFoundException>(() => _registry.ListRevisionsAsync(name, Ct));
        // Nothing was copied either: the package's data folder was never written.
        Assert.False(Directory.Exists(Path.Combine(_scratch.Combine("root"), Bucket, name)), "data was written for a refused revision");
    }

    private async Task<WorkflowException> RefusedAsync(CreatePackageRequest request)
    {
        var error = await Assert.ThrowsAsync<WorkflowException>(() => _service.CreateAsync(_registry, request, null, Ct));
        await AssertNothingPublishedAsync(request.Name);
        return error;
    }

    // The expected texts are quilt3 8.0.0's (WorkflowValidator, WorkflowConfig and validate()); ours adds what to do after them.
    [Fact]
    public async Task Metadata_that_fails_the_schema_is_refused_with_jsonschemas_message()
    {
        await WriteStandardConfigAsync();
        var error = await RefusedAsync(Request("u/p", WorkflowChoice.Named("beta"), meta: new JsonObject { ["year"] = 2024 }));
        Assert.StartsWith("Metadata failed validation: 'project' is a required property.", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsValidationFailure);

        var wrongType = await RefusedAsync(Request("u/p", WorkflowChoice.Named("beta"), meta: new JsonObject { ["project"] = "x", ["year"] = 1999 }));
        Assert.StartsWith("Metadata failed validation: 1999 is less than the minimum of 2000.", wrongType.Message, StringComparison.Ordinal);
        // No metadata at all is validated as quilt3's Package.meta: {}.
        var none = await RefusedAsync(Request("u/p", WorkflowChoice.Named("beta")));
        Assert.StartsWith("Metadata failed validation: 'project' is a required property.", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workflow_that_requires_a_message_refuses_a_revision_without_one()
    {
        await WriteStandardConfigAsync();
        foreach (var message in new[] { null, "" })
        {
            var error = await RefusedAsync(Request("u/p", WorkflowChoice.Named("alpha"), message: message));
            Assert.StartsWith("Commit message is required by workflow, but none was provided.", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Unknown_missing_and_required_workflows_are_refused_as_quilt3_refuses_them()
    {
        Assert.StartsWith("'alpha' workflow is specified, but no workflows config exist.",
            (await RefusedAsync(Request("u/p", WorkflowChoice.Named("alpha")))).Message, StringComparison.Ordinal);
        // quilt3's validate() refuses workflow=None too when there is no config (repr(None) in its message).
        Assert.StartsWith("None workflow is specified, but no workflows config exist.",
            (await RefusedAsync(Request("u/p", WorkflowChoice.None))).Message, StringComparison.Ordinal);

        await WriteStandardConfigAsync();
        Assert.StartsWith("There is no 'omega' workflow in config.",
            (await RefusedAsync(Request("u/p", WorkflowChoice.Named("omega")))).Message, StringComparison.Ordinal);
        // is_workflow_required defaults to true, and this config has no default_workflow.
        Assert.StartsWith("Workflow required, but none specified.",
            (await RefusedAsync(Request("u/p", WorkflowChoice.Default))).Message, StringComparison.Ordinal);
        Assert.StartsWith("Workflow required, but none specified.",
            (await RefusedAsync(Request("u/p", WorkflowChoice.None))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handle_pattern_is_searched_in_the_package_name()
    {
        await WriteStandardConfigAsync();
        var error = await RefusedAsync(Request("other/p", WorkflowChoice.Named("gamma")));
        Assert.StartsWith("Package name doesn't match required pattern.", error.Message, StringComparison.Ordinal);
        var ok = await _service.CreateAsync(_registry, Request("team/p", WorkflowChoice.Named("gamma")), null, Ct);
        Assert.Equal("gamma", ok.Manifest.Workflow!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Entries_are_validated_with_their_sizes_before_any_data_is_copied()
    {
        var (_, small) = await WriteStandardConfigAsync();
        var error = await RefusedAsync(Request("u/p", WorkflowChoice.Named("delta"), "m", null, ("b.txt", "0123456789ABC"), ("a.txt", "ok")));
        // quilt3 validates [{"logical_key", "size", "meta"}, ...] in tree order: b.txt (13 bytes) is the one too large.
        Assert.StartsWith("Package entries failed validation: 13 is greater than the maximum of 10.", error.Message, StringComparison.Ordinal);
        var tooMany = await RefusedAsync(Request("u/p", WorkflowChoice.Named("delta"), "m", null, ("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")));
        Assert.StartsWith("Package entries failed validation: [{'logical_key': 'a', 'size': 1, 'meta': {}}, {'logical_key': 'b', 'size': 1, 'meta': {}}, "
            + "{'logical_key': 'c', 'size': 1, 'meta': {}}, {'logical_key': 'd', 'size': 1, 'meta': {}}] is too long.", tooMany.Message, StringComparison.Ordinal);

        var ok = await _service.CreateAsync(_registry, Request("u/p", WorkflowChoice.Named("delta"), "m", null, ("a.txt", "ok")), null, Ct);
        Assert.Equal($$$"""{"id": "delta", "config": "{{{ConfigKey}}}", "schemas": {"small": "{{{small}}}"}}""",
            Core.Json.PythonJson.Serialize(ok.Manifest.Workflow, Core.Json.PythonJsonStyle.Manifest));
    }

    [Fact]
    public async Task The_package_line_records_the_workflow_quilt3s_way_and_the_default_workflow_applies()
    {
        var (project, _) = await WriteStandardConfigAsync(defaultWorkflow: "beta");
        var result = await _service.CreateAsync(_registry, Request("u/p", WorkflowChoice.Default, "first", new JsonObject { ["project"] = "x" }), null, Ct);

        // quilt3's manifest line: version, user_meta, workflow {id, config, schemas}, message, in that order.
        var manifestPath = Path.Combine(_scratch.Combine("root"), Bucket, ".quilt", "packages", result.Revision.TopHash);
        var firstLine = File.ReadLines(manifestPath).First();
        Assert.Equal($$$"""{"version": "v0", "user_meta": {"project": "x"}, "workflow": {"id": "beta", "config": "{{{ConfigKey}}}", "schemas": {"project": "{{{project}}}"}}, "message": "first"}""",
            firstLine);
        var (_, read) = await _registry.BrowseAsync("u/p", null, Ct);
        Assert.Equal(result.Revision.TopHash, read.TopHash);
    }

    [Fact]
    public async Task A_config_that_does_not_require_a_workflow_records_a_null_id_with_the_config()
    {
        await WriteStandardConfigAsync(required: false);
        var result = await _service.CreateAsync(_registry, Request("u/p", WorkflowChoice.Default), null, Ct);
        Assert.Equal($$"""{"id": null, "config": "{{ConfigKey}}"}""", Core.Json.PythonJson.Serialize(result.Manifest.Workflow, Core.Json.PythonJsonStyle.Manifest));
        var explicitNone = await _service.CreateAsync(_registry, Request("u/q", WorkflowChoice.None), null, Ct);
        Assert.Null(explicitNone.Manifest.Workflow!["id"]);
    }

    [Fact]
    public async Task Without_a_config_nothing_is_recorded()
    {
        var result = await _service.CreateAsync(_registry, Request("u/p", WorkflowChoice.Default), null, Ct);
        Assert.False(result.Manifest.PackageMeta.ContainsKey("workflow"));
    }

    [Fact]
    public async Task A_patch_is_validated_and_rechooses_the_workflow_as_quilt3_does()
    {
        await _service.CreateAsync(_registry, Request("u/p", WorkflowChoice.Default, "m", new JsonObject { ["project"] = "x" }), null, Ct);
        await WriteStandardConfigAsync(defaultWorkflow: "beta");
        var before = await _registry.ResolveTopHashAsync("u/p", null, Ct);

        var error = await Assert.ThrowsAsync<WorkflowException>(() => _service.UpdateAsync(_registry, "u/p",
            new PackageUpdate { Message = "m2", UserMeta = new JsonObject { ["other"] = 1 }, Add = [new InlineSource("new.txt", "n"u8.ToArray())] }, null, Ct));
        Assert.StartsWith("Metadata failed validation: 'project' is a required property.", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await _registry.ResolveTopHashAsync("u/p", null, Ct));
        Assert.False(File.Exists(Path.Combine(_scratch.Combine("root"), Bucket, "u", "p", "new.txt")));

        var patched = await _service.UpdateAsync(_registry, "u/p", new PackageUpdate { Message = "m2" }, null, Ct);
        Assert.Equal("beta", patched.Manifest.Workflow!["id"]!.GetValue<string>());
        var explicitAlpha = await Assert.ThrowsAsync<WorkflowException>(() => _service.UpdateAsync(_registry, "u/p", new PackageUpdate { Message = "", Workflow = WorkflowChoice.Named("alpha") }, null, Ct));
        Assert.StartsWith("Commit message is required by workflow", explicitAlpha.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { "version: \"1\"\nworkflows: [unclosed\n", "Couldn't parse workflows config as YAML." },
        { "version: \"1\"\n", "Workflows config failed validation: 'workflows' is a required property." },
        { "version: \"1\"\nworkflows:\n  alpha: {}\n", "Workflows config failed validation: 'name' is a required property." },
        { "version: \"1\"\nworkflows:\n  alpha: {name: A}\nextra: 1\n", "Workflows config failed validation: Additional properties are not allowed ('extra' was unexpected)." },
        { "version: \"2\"\nworkflows:\n  alpha: {name: A}\n", "Version '2.0.0' is not supported" },
        { "version: \"1\"\nworkflows:\n  alpha: {name: A, metadata_schema: nope}\n", "There is no 'nope' in schemas." },
        // PyYAML reads 1.1's "no" as false: a boolean, as is_workflow_required must be.
        { "version: \"1\"\nis_workflow_required: maybe\nworkflows:\n  alpha: {name: A}\n", "Workflows config failed validation: 'maybe' is not of type 'boolean'." },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public async Task A_config_quilt3_cannot_use_refuses_every_revision(string yaml, string expected)
    {
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, yaml, Ct);
        var error = await RefusedAsync(Request("u/p", WorkflowChoice.Named("alpha")));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Yaml_11_booleans_are_read_as_pyyaml_reads_them()
    {
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, "version: '1'\nis_workflow_required: no\nworkflows:\n  alpha: {name: A, is_message_required: yes}\n", Ct);
        var none = await _service.CreateAsync(_registry, Request("u/p", WorkflowChoice.Default, message: null), null, Ct);
        Assert.Null(none.Manifest.Workflow!["id"]);
        var error = await RefusedAsync(Request("u/q", WorkflowChoice.Named("alpha"), message: null));
        Assert.StartsWith("Commit message is required by workflow", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadSchemas => new()
    {
        { """{"type": "object", "properties": {"a": {"$ref": "#/definitions/x"}}}""", "Currently we don't support $ref in schema." },
        { """{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}""", "Unsupported meta-schema: http://json-schema.org/draft-04/schema#." },
        { """{"$schema": 7}""", "$schema must be a string." },
        { """{"type": "object",""", "Couldn't parse " },
        { """{"type": "no-such-type"}""", "Schema 'project' is not valid: " },
    };

    [Theory]
    [MemberData(nameof(BadSchemas))]
    public async Task A_schema_quilt3_cannot_use_refuses_the_revision(string schema, string expected)
    {
        var project = await WorkflowConfigs.PutSchemaAsync(_store, Bucket, "project.json", schema, Ct);
        var small = await WorkflowConfigs.PutSchemaAsync(_store, Bucket, "small.json", WorkflowConfigs.SmallEntriesSchema, Ct);
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, WorkflowConfigs.Config(project, small), Ct);
        var error = await RefusedAsync(Request("u/p", WorkflowChoice.Named("beta"), meta: new JsonObject { ["project"] = "x" }));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.False(error.IsValidationFailure);
    }

    // Each expected message is Python jsonschema's e.message for that failure (its validators' format strings).
    public static TheoryData<string, string, string> SchemaMessages => new()
    {
        { """{"type": "object", "properties": {"n": {"type": "string"}}}""", """{"n": 1}""", "1 is not of type 'string'" },
        { """{"properties": {"n": {"type": ["string", "null"]}}}""", """{"n": 1.5}""", "1.5 is not of type 'string', 'null'" },
        { """{"properties": {"n": {"enum": ["a", "b"]}}}""", """{"n": "c"}""", "'c' is not one of ['a', 'b']" },
        { """{"properties": {"n": {"pattern": "^a"}}}""", """{"n": "b"}""", "'b' does not match '^a'" },
        { """{"properties": {"n": {"maximum": 3}}}""", """{"n": 4}""", "4 is greater than the maximum of 3" },
        { """{"properties": {"n": {"const": true}}}""", """{"n": false}""", "True was expected" },
        { """{"properties": {"n": {"minLength": 1}}}""", """{"n": ""}""", "'' should be non-empty" },
        { """{"additionalProperties": false, "properties": {"a": {}}}""", """{"a": 1, "z": 2, "y": 3}""", "Additional properties are not allowed ('y', 'z' were unexpected)" },
        // The failure nearest the root wins: the missing property, not the nested type error.
        { """{"required": ["project"], "properties": {"d": {"properties": {"e": {"type": "string"}}}}}""", """{"d": {"e": 1}}""", "'project' is a required property" },
        { """{"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}""", """{"c": None}""", "{'c': None} is not valid under any of the given schemas" },
        { """{"properties": {"n": {"not": {"type": "integer"}}}}""", """{"n": 1}""", "1 should not be valid under {'type': 'integer'}" },
    };

    [Theory]
    [MemberData(nameof(SchemaMessages))]
    public async Task Metadata_failures_are_told_as_python_jsonschema_tells_them(string schema, string meta, string expected)
    {
        var project = await WorkflowConfigs.PutSchemaAsync(_store, Bucket, "project.json", schema, Ct);
        var small = await WorkflowConfigs.PutSchemaAsync(_store, Bucket, "small.json", WorkflowConfigs.SmallEntriesSchema, Ct);
        await WorkflowConfigs.PutConfigAsync(_store, Bucket, WorkflowConfigs.Config(project, small), Ct);
        var error = await RefusedAsync(Request("u/p", WorkflowChoice.Named("beta"), meta: JsonNode.Parse(meta.Replace("None", "null", StringComparison.Ordinal))));
        Assert.StartsWith($"Metadata failed validation: {expected}.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_versioned_bucket_the_config_and_schemas_are_recorded_with_their_version_ids()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: true, Ct);
        using var s3 = server.CreateStore();
        var project = await WorkflowConfigs.PutSchemaAsync(s3, bucket, "project.json", WorkflowConfigs.ProjectSchema, Ct);
        var small = await WorkflowConfigs.PutSchemaAsync(s3, bucket, "small.json", WorkflowConfigs.SmallEntriesSchema, Ct);
        await WorkflowConfigs.PutConfigAsync(s3, bucket, WorkflowConfigs.Config(project, small, defaultWorkflow: "beta"), Ct);
        var registry = new PackageRegistry(s3, bucket);
        var service = new PackageService(new ObjectLocator([s3], allowLocalFilesOutsideStores: false));

        var refused = await Assert.ThrowsAsync<WorkflowException>(() => service.CreateAsync(registry, Request("u/p", WorkflowChoice.Default), null, Ct));
        Assert.StartsWith("Metadata failed validation: 'project' is a required property.", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PackageNotFoundException>(() => registry.ListRevisionsAsync("u/p", Ct));
        var listed = await server.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = "u/" }, Ct);
        Assert.Empty(listed.S3Objects ?? []);

        var result = await service.CreateAsync(registry, Request("u/p", WorkflowChoice.Default, "m", new JsonObject { ["project"] = "x" }), null, Ct);
        var configVersion = (await server.Client.GetObjectMetadataAsync(bucket, WorkflowConfigs.ConfigKey, Ct)).VersionId;
        var schemaVersion = (await server.Client.GetObjectMetadataAsync(bucket, ".quilt/workflows/project.json", Ct)).VersionId;
        Assert.False(string.IsNullOrEmpty(configVersion));
        Assert.Equal(
            $$$"""{"id": "beta", "config": "s3://{{{bucket}}}/.quilt/workflows/config.yml?versionId={{{configVersion}}}", "schemas": {"project": "s3://{{{bucket}}}/.quilt/workflows/project.json?versionId={{{schemaVersion}}}"}}""",
            Core.Json.PythonJson.Serialize(result.Manifest.Workflow, Core.Json.PythonJsonStyle.Manifest));
        var (hash, _) = await registry.BrowseAsync("u/p", null, Ct);
        Assert.Equal(result.Revision.TopHash, hash);
    }

    [Fact]
    public async Task A_local_schema_is_refused_for_a_registry_in_s3()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        using var s3 = server.CreateStore();
        var local = Path.Combine(_scratch.Path, "local.json");
        await File.WriteAllTextAsync(local, WorkflowConfigs.ProjectSchema, Ct);
        var url = Core.PhysicalKey.File(local).ToString();
        await WorkflowConfigs.PutConfigAsync(s3, bucket, WorkflowConfigs.Config(url, url), Ct);
        var registry = new PackageRegistry(s3, bucket);
        var service = new PackageService(new ObjectLocator([s3], allowLocalFilesOutsideStores: true));
        var error = await Assert.ThrowsAsync<WorkflowException>(() => service.CreateAsync(registry, Request("u/p", WorkflowChoice.Named("beta")), null, Ct));
        Assert.StartsWith($"Local schema '{url}' can't be used on the remote registry.", error.Message, StringComparison.Ordinal);
        // An unversioned bucket's config is recorded without a version id.
        await WorkflowConfigs.PutConfigAsync(s3, bucket, "version: '1'\nis_workflow_required: false\nworkflows:\n  a: {name: A}\n", Ct);
        var ok = await service.CreateAsync(registry, Request("u/p", WorkflowChoice.Default), null, Ct);
        Assert.Equal($"s3://{bucket}/.quilt/workflows/config.yml", ok.Manifest.Workflow!["config"]!.GetValue<string>());
    }
}
