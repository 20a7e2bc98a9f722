using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core;

using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// Turns what goes in a package (<see cref="PackageSourceSpec"/>, from the MCP tools' items or the CLI's KEY=SOURCE
/// arguments) into entry sources, checking each before anything is written. An object is looked up once here and its
/// <see cref="ObjectInfo"/> travels with the source, so the build does not ask again.
/// </summary>
/// <param name="localRoots">The folders local files and folders must lie in; null for no limit.</param>
public sealed class PackageSourceResolver(IObjectStore store, ObjectUriResolver uris, BucketAccessPolicy policy, OperationSettings settings,
    ILocalRoots? localRoots = null)
{
    /// <param name="copyData">Whether the build copies data into the registry (entries of other packages are copied too, and checked).</param>
    /// <param name="alwaysCopyLocalFiles">Whether local files are uploaded even when the build references data in place (the MCP
    /// tools' rule); false lets a local registry reference them where they are (the CLI's --no-copy).</param>
    public async Task<List<EntrySource>> ResolveAsync(
        IReadOnlyList<PackageSourceSpec> specs, bool copyData, bool alwaysCopyLocalFiles, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(specs);
        var result = new List<EntrySource>();
        foreach (var spec in specs)
        {
            var where = spec.Where;
            var userMeta = spec.Metadata;
            var key = spec.LogicalKey?.Trim();
            if (key is { Length: 0 })
                key = null;
            // A key ending in '/' is a folder: one object or file lands in it under its own name.
            var folder = key is null || key.EndsWith('/');

            if (spec.Content is { } bytes)
            {
                if (key is null)
                    throw new OperationException($"{where}: inline content needs a logicalKey (such as 'notes/readme.md').");
                if (bytes.Length > settings.MaxInlineBytes)
                    throw new OperationException($"{where}: inline content of {bytes.Length:N0} bytes is over this server's limit of {settings.MaxInlineBytes:N0}; upload it with bucket_objects_put first and add it by its s3:// URI.");
                result.Add(new InlineSource(key, bytes) { UserMeta = userMeta, NullUserMeta = spec.NullMetadata });
                continue;
            }

            var uri = ObjectUriResolver.Require(spec.Uri, spec.UriArgument).Trim();
            if (uri.StartsWith("s3://", StringComparison.Ordinal) || QuiltUri.IsQuiltUri(uri))
            {
                result.AddRange(await FromStoreAsync(uri, key, folder, spec, copyData, cancellationToken));
                continue;
            }

            LocalFiles.EnsureAllowed(settings, spec.UriArgument);
            var path = LocalFiles.RequireAbsolute(uri, spec.UriArgument);
            await LocalFiles.EnsureUnderRootsAsync(localRoots, path, spec.UriArgument, cancellationToken);
            if (File.Exists(path) && !folder)
            {
                // A link named on purpose under a key is the file it leads to (read, sized and recorded as that file, as quilt3's realpath).
                var file = new FileInfo(path).LinkTarget is null ? path : File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
                result.Add(new LocalFileSource(key!, file) { UserMeta = userMeta, NullUserMeta = spec.NullMetadata, AlwaysCopy = alwaysCopyLocalFiles });
            }
            else if (File.Exists(path) || Directory.Exists(path))
            {
                if (Directory.Exists(path) && (userMeta is not null || spec.NullMetadata))
                    throw new OperationException($"{where}: metadata goes on single entries; give it per file, not for a folder.");
                var found = Guard(() => EntrySources.FromLocalPath(path, key ?? ""));
                result.AddRange(found.Select(s => s with { UserMeta = userMeta, NullUserMeta = spec.NullMetadata, AlwaysCopy = alwaysCopyLocalFiles }));
            }
            else
            {
                throw new OperationException($"{spec.UriArgument} '{uri}' does not exist: give an s3:// URI, or an existing local file or folder.");
            }
        }
        return result;
    }

    private async Task<IEnumerable<EntrySource>> FromStoreAsync(string uri, string? key, bool folder, PackageSourceSpec spec, bool copyData, CancellationToken ct)
    {
        var where = spec.Where;
        var isPrefix = uri.StartsWith("s3://", StringComparison.Ordinal) && (uri.EndsWith('/') || uri["s3://".Length..].IndexOf('/', StringComparison.Ordinal) < 0);
        if (!isPrefix)
        {
            var (obj, entry) = await uris.ForReadWithEntryAsync(uri, spec.UriArgument, ct);
            if (entry is not null)
            {
                // An entry of another package keeps its recorded size and hash: referenced as it is, or copied and checked
                // against that hash on the way; never taken as whatever bytes its object holds now.
                var entryName = entry.LogicalKey[(entry.LogicalKey.LastIndexOf('/') + 1)..];
                return [new ExistingEntrySource(entry, folder ? key + entryName : key) { UserMeta = spec.Metadata, NullUserMeta = spec.NullMetadata, CopyData = copyData }];
            }
            try
            {
                // The one lookup of this object: its size and version travel with the source to the build.
                var info = await store.HeadAsync(obj, ct);
                var name = obj.Key[(obj.Key.LastIndexOf('/') + 1)..];
                return [new StoreObjectSource(folder ? key + name : key!, store, obj) { Info = info, UserMeta = spec.Metadata, NullUserMeta = spec.NullMetadata }];
            }
            catch (ObjectNotFoundException) when (obj.VersionId is null && uri.StartsWith("s3://", StringComparison.Ordinal))
            {
                // Not an object: take it as a folder, as a user typing s3://bucket/data means.
                uri += "/";
            }
        }
        var (bucket, prefix) = uris.ForListing(uri, spec.UriArgument);
        policy.EnsureCanRead(bucket, spec.UriArgument);
        if (spec.Metadata is not null || spec.NullMetadata)
            throw new OperationException($"{where}: metadata goes on single entries; give it per object, not for a prefix.");
        return await Guard(() => EntrySources.FromStorePrefixAsync(store, bucket, prefix, key ?? "", ct));
    }

    /// <summary>
    /// Metadata by logical key set on the resolved sources (the CLI's --entry-meta KEY=JSON); a key among none of them is
    /// refused, naming <paramref name="argument"/>.
    /// </summary>
    public static void SetEntryMetadata(List<EntrySource> sources, IReadOnlyDictionary<string, JsonNode?> metadata, string argument)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(metadata);
        foreach (var (key, value) in metadata)
        {
            var index = sources.FindIndex(s => s.LogicalKey == key);
            if (index < 0)
                throw new OperationException($"{argument} names '{key}', which is not among the entries.");
            // JSON null is quilt3's set_meta(None): "user_meta": null.
            sources[index] = sources[index] with { UserMeta = value, NullUserMeta = value is null };
        }
    }

    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (PackageException e)
        {
            throw new OperationException(e.Message);
        }
    }

    private static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (PackageException e)
        {
            throw new OperationException(e.Message);
        }
    }

    /// <summary>A metadata argument: a JSON object (quilt3's user_meta is a dict), or null when not given.</summary>
    public static JsonNode? Metadata(JsonElement? element, string argument)
    {
        if (element is not { } e || e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            return null;
        if (e.ValueKind != JsonValueKind.Object)
            throw new OperationException($"{argument} must be a JSON object such as {{\"source\": \"lab\"}}, not {e.ValueKind.ToString().ToLowerInvariant()}.");
        // As Python's json reads it: a repeated key keeps its last value instead of failing when the metadata is written.
        return Quilt.Core.Json.PythonJson.Parse(System.Text.Encoding.UTF8.GetBytes(e.GetRawText()));
    }

    /// <summary>Whether a metadata argument is JSON null itself (quilt3's set_meta(None)), not left out.</summary>
    public static bool IsNull(JsonElement? element) => element is { ValueKind: JsonValueKind.Null };

    /// <summary>
    /// Metadata by key (an entry's logical key, a folder): each a JSON object, or JSON null kept as a null value.
    /// </summary>
    public static Dictionary<string, JsonNode?> KeyedMetadata(Dictionary<string, JsonElement>? given, string argument)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in given ?? [])
            result[key] = Metadata(value, $"{argument}['{key}']");
        return result;
    }

    public static JsonElement? ToElement(JsonNode? node)
    {
        if (node is null)
            return null;
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }
}
