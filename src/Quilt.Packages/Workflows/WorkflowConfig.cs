using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Quilt.Storage;
using YamlDotNet.Core;
using Version = System.Version;

namespace Quilt.Packages.Workflows;

/// <summary>
/// A registry's workflows config, <c>.quilt/workflows/config.yml</c> in its bucket, read through the registry's own store
/// (a local folder, S3, or a Quilt registry's browsing sessions), checked as quilt3 checks it: YAML as yaml.safe_load reads
/// it, the shape of quilt3's config schema (version 1 up to 1.1), and where it was read from (its version id, when the
/// bucket keeps versions), which each revision records.
/// </summary>
public sealed class WorkflowConfig
{
    public const string ConfigKey = ".quilt/workflows/config.yml";

    /// <summary>Configs and schemas are small documents; anything larger is refused rather than read whole.</summary>
    internal const long MaxDocumentBytes = 4 << 20;

    private static readonly Version SupportedVersion = new(1, 1, 0);

    private WorkflowConfig(JsonObject data, string physicalKey, bool isLocal)
    {
        Data = data;
        PhysicalKey = physicalKey;
        IsLocal = isLocal;
    }

    /// <summary>The config as parsed (JSON types as yaml.safe_load gives them).</summary>
    public JsonObject Data { get; }

    /// <summary>Where it was read from: s3://bucket/.quilt/workflows/config.yml?versionId=… or file:///….</summary>
    public string PhysicalKey { get; }

    /// <summary>Read from a local registry (file://): only then may its schemas be local files.</summary>
    public bool IsLocal { get; }

    /// <summary>The registry's config, or null when it has none (no config.yml).</summary>
    public static async Task<WorkflowConfig?> LoadAsync(PackageRegistry registry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var where = new ObjectRef(registry.Bucket, ConfigKey);
        byte[] bytes;
        ObjectRef read;
        try
        {
            (bytes, read) = await ReadSmallAsync(registry.Store, where, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ObjectNotFoundException or BucketNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is StorageException or IOException or PackageException)
        {
            throw new WorkflowException($"Couldn't load workflows config. {ex.Message.TrimEnd('.')}. Nothing was published; check that "
                + $"{registry.Store.ToPhysicalKey(where)} can be read, or ask the registry's administrator.", ex);
        }
        var physicalKey = registry.Store.ToPhysicalKey(read);
        JsonNode? parsed;
        try
        {
            parsed = YamlJson.Parse(DecodeUtf8(bytes));
        }
        catch (Exception ex) when (ex is YamlException or DecoderFallbackException or FormatException or OverflowException or JsonException)
        {
            throw new WorkflowException($"Couldn't parse workflows config as YAML. {physicalKey}: {ex.Message}. Nothing was published; the registry's "
                + "administrator must fix the config.", ex);
        }
        if (ConfigSchema.Value.Validate(parsed) is { } invalid)
        {
            throw new WorkflowException($"Workflows config failed validation: {invalid}. ({physicalKey}) Nothing was published; the registry's "
                + "administrator must fix the config.");
        }
        var data = (JsonObject)parsed!;
        var versionText = data["version"] is JsonObject compound ? compound["base"]!.GetValue<string>() : data["version"]!.GetValue<string>();
        var parts = versionText.Split('.').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).Concat([0, 0]).Take(3).ToArray();
        var version = new Version(parts[0], parts[1], parts[2]);
        if (version > SupportedVersion)
        {
            throw new WorkflowException($"Version '{version.Major}.{version.Minor}.{version.Build}' is not supported: this client reads workflows "
                + $"configs up to version {SupportedVersion.Major}.{SupportedVersion.Minor} ({physicalKey}). Nothing was published.");
        }
        return new WorkflowConfig(data, physicalKey, registry.IsLocal);
    }

    internal static string DecodeUtf8(byte[] bytes) =>
        new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);

    /// <summary>
    /// Reads a small object whole, pinned to the version seen (so the version id recorded is the one read); refuses one
    /// larger than <see cref="MaxDocumentBytes"/>.
    /// </summary>
    internal static async Task<(byte[] Bytes, ObjectRef Read)> ReadSmallAsync(IObjectStore store, ObjectRef obj, CancellationToken ct)
    {
        var info = await store.HeadAsync(obj, ct).ConfigureAwait(false);
        if (info.Size > MaxDocumentBytes)
            throw new PackageException($"{store.ToPhysicalKey(obj)} holds {info.Size} bytes; a workflows config or schema may hold at most {MaxDocumentBytes} bytes.");
        var pinned = obj with { VersionId = obj.VersionId ?? info.VersionId };
        var stream = await store.OpenReadAsync(pinned, null, ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
            return (await ReadBoundedAsync(stream, store.ToPhysicalKey(pinned), ct).ConfigureAwait(false), pinned);
    }

    internal static async Task<byte[]> ReadBoundedAsync(Stream stream, string name, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxDocumentBytes)
                throw new PackageException($"{name} holds more than {MaxDocumentBytes} bytes; a workflows config or schema may hold at most that.");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The shape quilt3 requires of a config (its config-1.schema.json, version 1.1.0, restated here): version "1"…"1.1"
    /// (or {base, catalog}), workflows (at least one, ids like <c>alpha_1</c>, each with a name), schemas (each with a url),
    /// and no other top-level keys than is_workflow_required, default_workflow, successors and catalog.
    /// </summary>
    private static readonly Lazy<SchemaCheck> ConfigSchema = new(() => SchemaCheck.Create(JsonNode.Parse("""
        {
          "type": "object",
          "required": ["version", "workflows"],
          "additionalProperties": false,
          "properties": {
            "catalog": true,
            "version": {
              "oneOf": [
                {"type": "string", "pattern": "^[1-9][0-9]*(\\.(0|[1-9][0-9]*)){0,2}$"},
                {
                  "type": "object",
                  "additionalProperties": false,
                  "required": ["base"],
                  "properties": {
                    "base": {"type": "string", "pattern": "^[1-9][0-9]*(\\.(0|[1-9][0-9]*)){0,2}$"},
                    "catalog": {"type": "string", "pattern": "^[1-9][0-9]*(\\.(0|[1-9][0-9]*)){0,2}$"}
                  }
                }
              ]
            },
            "is_workflow_required": {"type": "boolean"},
            "default_workflow": {"type": "string"},
            "workflows": {
              "type": "object",
              "minProperties": 1,
              "propertyNames": {"pattern": "^[A-Za-z_-][A-Za-z0-9_-]*$", "maxLength": 64},
              "additionalProperties": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": false,
                "properties": {
                  "catalog": true,
                  "name": {"type": "string", "minLength": 1},
                  "description": {"type": "string", "minLength": 1},
                  "handle_pattern": {"type": "string"},
                  "metadata_schema": {"type": "string"},
                  "entries_schema": {"type": "string"},
                  "is_message_required": {"type": "boolean"}
                }
              }
            },
            "schemas": {
              "type": "object",
              "minProperties": 1,
              "additionalProperties": {
                "type": "object",
                "required": ["url"],
                "properties": {"url": {"type": "string"}}
              }
            },
            "successors": {
              "type": "object",
              "minProperties": 1,
              "additionalProperties": {
                "type": "object",
                "required": ["title"],
                "properties": {"title": {"type": "string", "minLength": 1}, "copy_data": {"type": "boolean"}}
              }
            }
          }
        }
        """)));

    /// <summary>A handle_pattern as Python's re.search uses it (a match anywhere in the name).</summary>
    internal static Regex HandlePattern(string workflowId, string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new WorkflowException($"The handle_pattern of workflow '{workflowId}' is not a valid regular expression ({ex.Message}); the registry's "
                + "administrator must fix the config. Nothing was published.", ex);
        }
    }
}
