using System.Text;
using Quilt.Storage;

namespace Quilt.Testing;

/// <summary>
/// Workflows configs shaped like quilt3's own tests' (quilt3 8.0.0, api/python/tests/test_workflows.py and
/// quilt3/workflows/__init__.py): written into a registry bucket at .quilt/workflows/, with their schemas beside them.
/// </summary>
public static class WorkflowConfigs
{
    public const string ConfigKey = ".quilt/workflows/config.yml";

    /// <summary>A JSON Schema requiring a "project" string in the package metadata.</summary>
    public const string ProjectSchema = """
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": ["project"],
         "properties": {"project": {"type": "string"}, "year": {"type": "integer", "minimum": 2000}}}
        """;

    /// <summary>Entries of at most 10 bytes each, and at most 3 of them.</summary>
    public const string SmallEntriesSchema = """
        {"type": "array", "maxItems": 3, "items": {"type": "object", "properties": {"size": {"maximum": 10}}}}
        """;

    public static Task PutConfigAsync(IObjectStore store, string bucket, string yaml, CancellationToken ct) =>
        PutTextAsync(store, bucket, ConfigKey, yaml, ct);

    /// <summary>Writes a schema at .quilt/workflows/&lt;name&gt; and returns the URL a config names it by (the store's physical key).</summary>
    public static async Task<string> PutSchemaAsync(IObjectStore store, string bucket, string name, string json, CancellationToken ct)
    {
        var key = ".quilt/workflows/" + name;
        await PutTextAsync(store, bucket, key, json, ct);
        return store.ToPhysicalKey(new ObjectRef(bucket, key));
    }

    public static async Task<PutResult> PutTextAsync(IObjectStore store, string bucket, string key, string text, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        var bytes = Encoding.UTF8.GetBytes(text);
        using var content = new MemoryStream(bytes, writable: false);
        return await store.PutAsync(new PutRequest(bucket, key) { Length = bytes.Length }, content, null, ct);
    }

    /// <summary>
    /// quilt3's test config: alpha needs a message, beta metadata with a project, gamma a name under "team/", delta small
    /// entries; the workflow is required unless <paramref name="required"/> is false; <paramref name="defaultWorkflow"/> when given.
    /// </summary>
    public static string Config(string projectSchemaUrl, string entriesSchemaUrl, bool? required = null, string? defaultWorkflow = null) =>
        $"""
        version: "1"
        {(required is null ? "" : $"is_workflow_required: {(required.Value ? "true" : "false")}")}
        {(defaultWorkflow is null ? "" : $"default_workflow: {defaultWorkflow}")}
        workflows:
          alpha:
            name: Needs a message
            is_message_required: true
          beta:
            name: Needs a project
            metadata_schema: project
          gamma:
            name: Team packages only
            handle_pattern: ^team/
          delta:
            name: Small entries
            entries_schema: small
        schemas:
          project:
            url: {projectSchemaUrl}
          small:
            url: {entriesSchemaUrl}
        """;
}
