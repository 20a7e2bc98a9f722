using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Quilt.Core;
using Quilt.Storage;

namespace Quilt.Packages.Workflows;

/// <summary>One entry as a workflow's entries_schema sees it: quilt3 validates <c>[{logical_key, size, meta}, …]</c> in tree order.</summary>
public readonly record struct WorkflowEntry(string LogicalKey, long Size, JsonNode? UserMeta);

/// <summary>
/// The rules a registry's workflows config sets for one new revision, as quilt3 applies them (quilt3.workflows): the
/// workflow chosen (the one named, else the config's default_workflow; none only when the config does not require one),
/// its schemas loaded, then the commit message, the package name (handle_pattern), the package metadata (metadata_schema)
/// and the entries (entries_schema) checked, in that order. <see cref="StoredWorkflow"/> is what the package line records.
/// </summary>
public sealed class WorkflowRules
{
    private readonly string _registry;
    private readonly string? _workflowId;
    private readonly bool _isMessageRequired;
    private readonly Regex? _handlePattern;
    private readonly (string Id, SchemaCheck Check)? _metadataSchema;
    private readonly (string Id, SchemaCheck Check)? _entriesSchema;

    private WorkflowRules(string registry, string? workflowId, bool isMessageRequired, Regex? handlePattern,
        (string, SchemaCheck)? metadataSchema, (string, SchemaCheck)? entriesSchema, JsonObject stored)
    {
        _registry = registry;
        _workflowId = workflowId;
        _isMessageRequired = isMessageRequired;
        _handlePattern = handlePattern;
        _metadataSchema = metadataSchema;
        _entriesSchema = entriesSchema;
        StoredWorkflow = stored;
    }

    /// <summary>
    /// The package line's <c>workflow</c>: <c>{"id": …, "config": "&lt;config's physical key&gt;", "schemas": {id: "&lt;physical key&gt;"}}</c>
    /// in quilt3's key order, "schemas" only when a schema was loaded; id is null when no workflow applies.
    /// </summary>
    public JsonObject StoredWorkflow { get; }

    public string? WorkflowId => _workflowId;

    /// <summary>
    /// The rules for a revision of <paramref name="registry"/>, or null when the registry has no workflows config and none
    /// was asked for (then the revision records no workflow). Schemas are read through <paramref name="locator"/>.
    /// </summary>
    public static async Task<WorkflowRules?> PrepareAsync(
        PackageRegistry registry, ObjectLocator locator, WorkflowChoice choice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(locator);
        ArgumentNullException.ThrowIfNull(choice);
        var where = $"s3://{registry.Bucket}";
        var config = await WorkflowConfig.LoadAsync(registry, cancellationToken).ConfigureAwait(false);
        if (config is null)
        {
            if (choice.IsDefault)
                return null;
            throw new WorkflowException($"{choice.PythonRepr} workflow is specified, but no workflows config exist. {where} has no {WorkflowConfig.ConfigKey}: "
                + "leave the workflow out. Nothing was published.") { IsValidationFailure = true };
        }

        var data = config.Data;
        var workflows = (JsonObject)data["workflows"]!;
        var id = choice.IsDefault ? Text(data["default_workflow"]) : choice.Name;
        JsonObject workflow;
        if (id is null)
        {
            if (data["is_workflow_required"]?.GetValue<bool>() ?? true)
            {
                throw new WorkflowException($"Workflow required, but none specified. The workflows config of {where} requires one; name one of: "
                    + $"{string.Join(", ", workflows.Select(w => w.Key))}. Nothing was published.") { IsValidationFailure = true };
            }
            workflow = [];
        }
        else if (workflows[id] is JsonObject named)
        {
            workflow = named;
        }
        else
        {
            throw new WorkflowException($"There is no {PythonRepr.String(id)} workflow in config. The workflows of {where} are: "
                + $"{string.Join(", ", workflows.Select(w => w.Key))}. Nothing was published.") { IsValidationFailure = true };
        }

        var handlePattern = Text(workflow["handle_pattern"]) is { Length: > 0 } pattern ? WorkflowConfig.HandlePattern(id!, pattern) : null;
        var loader = new SchemaLoader(config, locator);
        (string, SchemaCheck)? metadataSchema = Text(workflow["metadata_schema"]) is { Length: > 0 } metaId
            ? (metaId, await loader.LoadAsync(metaId, cancellationToken).ConfigureAwait(false)) : null;
        (string, SchemaCheck)? entriesSchema = Text(workflow["entries_schema"]) is { Length: > 0 } entriesId
            ? (entriesId, await loader.LoadAsync(entriesId, cancellationToken).ConfigureAwait(false)) : null;

        var stored = new JsonObject { ["id"] = id, ["config"] = config.PhysicalKey };
        if (loader.Loaded.Count > 0)
            stored["schemas"] = new JsonObject(loader.Loaded.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)JsonValue.Create(s.Value))));
        return new WorkflowRules(where, id, workflow["is_message_required"]?.GetValue<bool>() ?? false, handlePattern, metadataSchema, entriesSchema, stored);
    }

    /// <summary>The commit message, the name and the package metadata (quilt3's order); all known before any data is read.</summary>
    public void ValidatePackage(string name, string? message, JsonNode? userMeta)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_isMessageRequired && string.IsNullOrEmpty(message))
            throw Failed($"Commit message is required by workflow, but none was provided. Give a message.");
        if (_handlePattern is not null && !_handlePattern.IsMatch(name))
            throw Failed($"Package name doesn't match required pattern. '{name}' must match {PythonRepr.String(_handlePattern.ToString())}.");
        if (_metadataSchema is var (schemaId, check) && check.Validate(userMeta) is { } error)
            throw Failed($"Metadata failed validation: {error}. Fix the package metadata to satisfy schema '{schemaId}'.");
    }

    /// <summary>Whether an entries_schema applies (then the entries must be listed with their sizes).</summary>
    public bool ChecksEntries => _entriesSchema is not null;

    /// <summary>The entries, in the manifest's (tree) order, against the workflow's entries_schema.</summary>
    public void ValidateEntries(IEnumerable<WorkflowEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (_entriesSchema is not var (schemaId, check))
            return;
        var list = new JsonArray();
        foreach (var e in entries)
            list.Add((JsonNode)new JsonObject { ["logical_key"] = e.LogicalKey, ["size"] = e.Size, ["meta"] = e.UserMeta?.DeepClone() });
        if (check.Validate(list) is { } error)
            throw Failed($"Package entries failed validation: {error}. Change the entries to satisfy schema '{schemaId}'.");
    }

    private WorkflowException Failed(string message) =>
        new($"{message} (workflow {(_workflowId is null ? "none" : PythonRepr.String(_workflowId))} of {_registry}) Nothing was published.")
        {
            IsValidationFailure = true,
        };

    private static string? Text(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    /// <summary>Loads a config's schemas by id as quilt3 does: one read per URL, each id recorded with the key it was read from.</summary>
    private sealed class SchemaLoader(WorkflowConfig config, ObjectLocator locator)
    {
        private readonly Dictionary<string, (SchemaCheck Check, string Key)> _byUrl = new(StringComparer.Ordinal);

        public Dictionary<string, string> Loaded { get; } = new(StringComparer.Ordinal);

        public async Task<SchemaCheck> LoadAsync(string schemaId, CancellationToken ct)
        {
            if (config.Data["schemas"]?[schemaId] is not JsonObject entry)
                throw Config($"There is no {PythonRepr.String(schemaId)} in schemas.");
            var url = entry["url"]!.GetValue<string>();
            if (!Core.PhysicalKey.TryParse(url, out var parsed) || parsed is null)
                throw Config($"Couldn't parse URL {PythonRepr.String(url)}.");
            var key = parsed.ToString();
            if (parsed.IsLocal && !config.IsLocal)
                throw Config($"Local schema {PythonRepr.String(key)} can't be used on the remote registry.");
            if (_byUrl.TryGetValue(key, out var known))
            {
                Loaded[schemaId] = known.Key;
                return known.Check;
            }

            byte[] bytes;
            string effective;
            try
            {
                (bytes, effective) = await ReadAsync(key, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StorageException or IOException or UnauthorizedAccessException or PackageException)
            {
                throw Config($"Couldn't load schema at {key}. {ex.Message.TrimEnd('.')}.", ex);
            }

            JsonNode? schema;
            try
            {
                schema = Core.Json.PythonJson.Parse(bytes);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                throw Config($"Couldn't parse {key} as JSON. {ex.Message.TrimEnd('.')}.", ex);
            }
            if (HasRef(schema))
                throw Config("Currently we don't support $ref in schema.");
            if (schema is JsonObject o && o.TryGetPropertyValue("$schema", out var metaSchema))
            {
                if (metaSchema?.GetValueKind() != JsonValueKind.String)
                    throw Config("$schema must be a string.");
                var name = metaSchema.GetValue<string>();
                if (name != "http://json-schema.org/draft-07/schema#")
                    throw Config($"Unsupported meta-schema: {name}.");
            }
            SchemaCheck check;
            try
            {
                if (SchemaCheck.MetaSchemaError(schema) is { } invalid)
                    throw Config($"Schema {PythonRepr.String(schemaId)} is not valid: {invalid}.");
                check = SchemaCheck.Create(schema);
            }
            catch (JsonSchemaException ex)
            {
                throw Config($"Schema {PythonRepr.String(schemaId)} is not valid: {ex.Message.TrimEnd('.')}.", ex);
            }
            _byUrl[key] = (check, effective);
            Loaded[schemaId] = effective;
            return check;
        }

        private async Task<(byte[] Bytes, string Effective)> ReadAsync(string key, CancellationToken ct)
        {
            if (locator.Resolve(key) is var (store, obj))
            {
                var (bytes, read) = await WorkflowConfig.ReadSmallAsync(store, obj, ct).ConfigureAwait(false);
                return (bytes, store.ToPhysicalKey(read));
            }
            // A local file outside every store: only where the locator allows it (a local registry on the user's own machine).
            var stream = await locator.OpenReadAsync(key, null, ct).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
                return (await WorkflowConfig.ReadBoundedAsync(stream, key, ct).ConfigureAwait(false), key);
        }

        private static bool HasRef(JsonNode? node) => node switch
        {
            JsonObject o => o.ContainsKey("$ref") || o.Any(p => HasRef(p.Value)),
            JsonArray a => a.Any(HasRef),
            _ => false,
        };

        private static WorkflowException Config(string message, Exception? inner = null)
        {
            var text = message + " The registry's administrator must fix the workflows config or its schema. Nothing was published.";
            return inner is null ? new WorkflowException(text) : new WorkflowException(text, inner);
        }
    }
}
