using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Packages.Workflows;
using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Cli;

/// <summary>What every command needs: the store, error reporting, JSON or text output, progress on stderr.</summary>
internal static class CliSupport
{
    public static readonly Option<bool> Json = new("--json") { Description = "Print the result as JSON (for scripts)." };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs a command body; expected failures print "error: …" on stderr and exit 1, never a stack trace.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
        catch (Exception ex) when (ex is OperationException or PackageException or StorageException or FormatException or ArgumentException or IOException or UnauthorizedAccessException or JsonException)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The store the options name; registry mode (QUILT_REGISTRY_URL) with the token in QUILT_REGISTRY_TOKEN.</summary>
    public static IObjectStore OpenStore(ParseResult parse)
    {
        var settings = StorageOptions.Read(parse);
        if (settings.Kind != StorageKind.Registry)
            return ObjectStoreFactory.Create(settings);
        var token = Environment.GetEnvironmentVariable(RegistryStores.TokenVariable);
        if (RegistryStores.CheckToken(token) is { } problem)
            throw new ArgumentException(problem);
        return RegistryStores.Open(settings, new FixedRegistryToken(token!));
    }

    /// <summary>
    /// Reads what the packages of <paramref name="registry"/> point to. Local files a manifest names are read only for a
    /// local registry, the user's own folder; a manifest from S3 or a Quilt registry must not make this machine read its files.
    /// </summary>
    public static ObjectLocator Locator(PackageRegistry registry) => new([registry.Store], allowLocalFilesOutsideStores: registry.IsLocal);

    public static void WriteJson(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(Indented));

    /// <summary>Parses s3://bucket/key (or quilt+s3://bucket#path=key) into an object reference.</summary>
    public static ObjectRef ParseObjectUri(string uri, bool requireKey = true)
    {
        if (QuiltUri.IsQuiltUri(uri))
        {
            var q = QuiltUri.Parse(uri);
            if (q.PackageName is not null)
                throw new FormatException($"'{uri}' names a package entry; use 'package get' for package entries.");
            return new ObjectRef(q.Bucket, q.Path ?? "");
        }
        var key = PhysicalKey.Parse(uri);
        if (key.IsLocal)
            throw new FormatException($"'{uri}' is a local file; give an s3://bucket/key URI.");
        if (requireKey && key.Path.Length == 0)
            throw new FormatException($"'{uri}' has no key: give s3://bucket/key.");
        return new ObjectRef(key.Bucket!, key.Path, key.VersionId);
    }

    public static string FormatSize(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    public static JsonObject EntryJson(ManifestEntry e) => new()
    {
        ["logical_key"] = e.LogicalKey,
        ["physical_key"] = e.PhysicalKey,
        ["size"] = e.Size,
        ["hash"] = new JsonObject { ["type"] = e.Hash.Type, ["value"] = e.Hash.Value },
        ["meta"] = e.Meta?.DeepClone() ?? new JsonObject(),
    };

    /// <summary>
    /// --workflow: a workflow name of the registry's config; '' for none (leave it out for the config's default). The
    /// old JSON string form ('"alpha"') is still read as that name, with a note; JSON objects and arrays are refused.
    /// </summary>
    public static WorkflowChoice ParseWorkflowOption(string? text)
    {
        if (text is null || text.Length == 0)
            return WorkflowChoice.Parse(text);
        if (text[0] is '{' or '[')
        {
            throw new ArgumentException("--workflow takes a workflow name from the registry's .quilt/workflows/config.yml (e.g. --workflow alpha), "
                + "not JSON; give --workflow '' for none, or leave it out for the config's default_workflow.");
        }
        if (text[0] == '"' && ParseJsonOption(text, "--workflow") is JsonValue quoted && quoted.GetValueKind() == JsonValueKind.String)
        {
            var name = quoted.GetValue<string>();
            Console.Error.WriteLine($"note: --workflow takes a plain name now; write --workflow {(name.Length == 0 ? "''" : name)} (the JSON string form is deprecated).");
            return WorkflowChoice.Parse(name);
        }
        return WorkflowChoice.Named(text);
    }

    public static JsonNode? ParseJsonOption(string? text, string optionName)
    {
        if (text is null)
            return null;
        try
        {
            // As Python's json reads it (quilt3's own --meta): a repeated key keeps its last value instead of failing later.
            return Quilt.Core.Json.PythonJson.Parse(System.Text.Encoding.UTF8.GetBytes(text));
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"{optionName} must be JSON, such as '{{\"key\": \"value\"}}': {ex.Message}", ex);
        }
    }
}

/// <summary>A one-line progress display on stderr for long transfers (only when stderr is a terminal).</summary>
internal sealed class ConsoleProgress : IProgress<PackageProgress>, IProgress<long>, IDisposable
{
    private readonly bool _enabled = !Console.IsErrorRedirected;
    private readonly long _total;
    private long _lastTicks;
    private bool _wrote;

    public ConsoleProgress(long totalBytes = 0) => _total = totalBytes;

    public void Report(PackageProgress value) =>
        Show($"{CliSupport.FormatSize(value.BytesDone)} / {CliSupport.FormatSize(value.BytesTotal)}, {value.EntriesDone}/{value.EntriesTotal} entries");

    public void Report(long value) =>
        Show(_total > 0 ? $"{CliSupport.FormatSize(value)} / {CliSupport.FormatSize(_total)}" : CliSupport.FormatSize(value));

    private void Show(string text)
    {
        if (!_enabled)
            return;
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _lastTicks) < 200)
            return;
        Interlocked.Exchange(ref _lastTicks, now);
        lock (this)
        {
            Console.Error.Write("\r" + text.PadRight(60));
            _wrote = true;
        }
    }

    public void Dispose()
    {
        if (_wrote)
            Console.Error.WriteLine();
    }
}
