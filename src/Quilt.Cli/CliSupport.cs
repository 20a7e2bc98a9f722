using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Mcp.Configuration;
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

    /// <summary>The catalog host of the commands that print links (as serve's --catalog).</summary>
    public static readonly Option<string?> Catalog = new("--catalog")
    {
        Description = "A Quilt catalog host (e.g. catalog.example.com) to print catalog page URLs for. Env: QUILT_MCP_CATALOG.",
    };

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
            // A structured error (such as a registry without upload: workarounds, backend feature needed) follows, as tools show it.
            await Console.Error.WriteLineAsync("error: " + ErrorDetails.MessageWithDetails(ex)).ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The store the options name (see <see cref="Connect"/>).</summary>
    public static IObjectStore OpenStore(ParseResult parse) => Connect(parse).Store;

    /// <summary>
    /// The store and revision publisher the options name, from the composition root (<see cref="StoreConnection"/>):
    /// registry mode (--registry-url or QUILT_REGISTRY_URL) with the token in QUILT_API_KEY (an API key) or QUILT_REGISTRY_TOKEN.
    /// </summary>
    public static StoreConnection Connect(ParseResult parse) => Connect(StorageOptions.Resolve(parse));

    private static StoreConnection Connect(ConnectionChoice choice)
    {
        if (!choice.IsRegistryMode)
            return StoreConnection.Open(choice, null);
        var token = RegistryStores.TokenFromEnvironment(Environment.GetEnvironmentVariable, out var problem);
        if (problem is not null)
            throw new ArgumentException(problem);
        return StoreConnection.Open(choice, new FixedRegistryToken(token!));
    }

    /// <summary>
    /// Every operation over the connection the options name, under the same rules as the MCP tools. A package command
    /// passes its --registry-bucket. Local files a manifest names are read only for a local registry, the user's own
    /// folder: a manifest from S3 or a Quilt registry must not make this machine read its files.
    /// </summary>
    /// <param name="withCatalog">The command has <see cref="Catalog"/>: catalog URLs from it, else from QUILT_MCP_CATALOG.</param>
    public static QuiltOperations Operations(ParseResult parse, string? registryBucket = null, bool withCatalog = false)
    {
        var choice = StorageOptions.Resolve(parse);
        string? catalog = null;
        if (withCatalog)
        {
            var given = parse.GetValue(Catalog);
            var errors = new List<string>();
            catalog = ServerSettingsResolver.ResolveCatalog(given ?? Environment.GetEnvironmentVariable(ServerSettingsResolver.CatalogVariable),
                given is not null ? "--catalog" : ServerSettingsResolver.CatalogVariable, errors);
            if (errors.Count > 0)
                throw new ArgumentException(errors[0]);
        }
        var connection = Connect(choice);
        var settings = new OperationSettings
        {
            Storage = choice.Storage,
            RegistryUrl = choice.RegistryUrl,
            DefaultRegistry = registryBucket ?? choice.RegistryBucket,
            CatalogHost = catalog,
        };
        var locator = new ObjectLocator([connection.Store], allowLocalFilesOutsideStores: connection.Store.Scheme == "file");
        return new QuiltOperations(connection, settings, new PackageService(locator));
    }

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
internal sealed class ConsoleProgress : IProgress<PackageProgress>, IProgress<long>, IProgress<Quilt.Operations.ProgressUpdate>, IDisposable
{
    private readonly bool _enabled = !Console.IsErrorRedirected;
    private readonly long _total;
    private long _lastTicks;
    private bool _wrote;

    public ConsoleProgress(long totalBytes = 0) => _total = totalBytes;

    public void Report(PackageProgress value) =>
        Show($"{CliSupport.FormatSize(value.BytesDone)} / {CliSupport.FormatSize(value.BytesTotal)}, {value.EntriesDone}/{value.EntriesTotal} entries");

    /// <summary>Bytes done of the total, and the operation's line (entries done) when it gives one.</summary>
    public void Report(Quilt.Operations.ProgressUpdate value) =>
        Show($"{CliSupport.FormatSize((long)value.Done)}" + (value.Total is { } total ? $" / {CliSupport.FormatSize((long)total)}" : "")
            + (value.Message is { } message ? ", " + message : ""));

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
