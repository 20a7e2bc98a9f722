using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core;

using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>Turns package_create / package_patch source arguments into entry sources, checking each before anything is written.</summary>
public sealed class PackageSourceResolver(IObjectStore store, ObjectUriResolver uris, BucketAccessPolicy policy, OperationSettings settings)
{
    /// <param name="copyData">Whether the build copies data into the registry (entries of other packages are copied too, and checked).</param>
    public async Task<List<EntrySource>> ResolveAsync(IReadOnlyList<PackageSourceInput>? inputs, string argument, bool copyData, CancellationToken cancellationToken)
    {
        var result = new List<EntrySource>();
        if (inputs is null)
            return result;
        for (var i = 0; i < inputs.Count; i++)
        {
            var where = $"{argument}[{i}]";
            var input = inputs[i] ?? throw new OperationException($"{where} is empty: give uri, text or base64.");
            var given = (input.Uri is not null ? 1 : 0) + (input.Text is not null ? 1 : 0) + (input.Base64 is not null ? 1 : 0);
            if (given != 1)
                throw new OperationException($"{where}: give exactly one of uri, text or base64.");
            var userMeta = Metadata(input.Metadata, where + ".metadata");
            var key = input.LogicalKey?.Trim();
            if (key is { Length: 0 })
                key = null;

            if (input.Text is not null || input.Base64 is not null)
            {
                if (key is null)
                    throw new OperationException($"{where}: inline content needs a logicalKey (such as 'notes/readme.md').");
                byte[] bytes;
                try
                {
                    bytes = input.Text is not null ? System.Text.Encoding.UTF8.GetBytes(input.Text) : Convert.FromBase64String(input.Base64!);
                }
                catch (FormatException)
                {
                    throw new OperationException($"{where}.base64 is not valid base64.");
                }
                if (bytes.LongLength > settings.MaxInlineBytes)
                    throw new OperationException($"{where}: inline content of {bytes.LongLength:N0} bytes is over this server's limit of {settings.MaxInlineBytes:N0}; upload it with bucket_objects_put first and add it by its s3:// URI.");
                result.Add(new InlineSource(key, bytes) { UserMeta = userMeta, NullUserMeta = IsNull(input.Metadata) });
                continue;
            }

            var uri = input.Uri!.Trim();
            if (uri.StartsWith("s3://", StringComparison.Ordinal) || QuiltUri.IsQuiltUri(uri))
            {
                result.AddRange(await FromStoreAsync(uri, key, userMeta, IsNull(input.Metadata), where, copyData, cancellationToken));
                continue;
            }

            LocalFiles.EnsureAllowed(settings, where + ".uri");
            var path = LocalFiles.RequireAbsolute(uri, where + ".uri");
            if (File.Exists(path))
            {
                result.Add(new LocalFileSource(key ?? Path.GetFileName(path), path) { UserMeta = userMeta, NullUserMeta = IsNull(input.Metadata), AlwaysCopy = true });
            }
            else if (Directory.Exists(path))
            {
                if (userMeta is not null)
                    throw new OperationException($"{where}: metadata goes on single entries; give it per file, not for a folder.");
                result.AddRange(Guard(() => EntrySources.FromLocalPath(path, key ?? "")).Select(s => s with { AlwaysCopy = true }));
            }
            else
            {
                throw new OperationException($"{where}.uri '{uri}' is neither an s3:// URI nor an existing local file or folder.");
            }
        }
        return result;
    }

    private async Task<IEnumerable<EntrySource>> FromStoreAsync(string uri, string? key, JsonNode? userMeta, bool nullUserMeta, string where, bool copyData, CancellationToken ct)
    {
        var isPrefix = uri.StartsWith("s3://", StringComparison.Ordinal) && (uri.EndsWith('/') || uri["s3://".Length..].IndexOf('/', StringComparison.Ordinal) < 0);
        if (!isPrefix)
        {
            var (obj, entry) = await uris.ForReadWithEntryAsync(uri, where + ".uri", ct);
            if (entry is not null)
            {
                // An entry of another package keeps its recorded size and hash: referenced as it is, or copied and checked
                // against that hash on the way; never taken as whatever bytes its object holds now.
                var entryName = entry.LogicalKey[(entry.LogicalKey.LastIndexOf('/') + 1)..];
                return [new ExistingEntrySource(entry, key ?? entryName) { UserMeta = userMeta, NullUserMeta = nullUserMeta, CopyData = copyData }];
            }
            try
            {
                await store.HeadAsync(obj, ct);
                var name = obj.Key[(obj.Key.LastIndexOf('/') + 1)..];
                return [new StoreObjectSource(key ?? name, store, obj) { UserMeta = userMeta, NullUserMeta = nullUserMeta }];
            }
            catch (ObjectNotFoundException) when (obj.VersionId is null && uri.StartsWith("s3://", StringComparison.Ordinal))
            {
                // Not an object: take it as a folder, as a user typing s3://bucket/data means.
                uri += "/";
            }
        }
        var (bucket, prefix) = uris.ForListing(uri, where + ".uri");
        policy.EnsureCanRead(bucket, where + ".uri");
        if (userMeta is not null)
            throw new OperationException($"{where}: metadata goes on single entries; give it per object, not for a prefix.");
        var sources = await EntrySources.FromStorePrefixAsync(store, bucket, prefix, key ?? "", ct).ConfigureAwait(false);
        return sources;
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
