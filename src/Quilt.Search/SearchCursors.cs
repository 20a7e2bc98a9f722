using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Quilt.Core;

namespace Quilt.Search;

/// <summary>What a cursor holds: which search (the request, whose scope), and how many hits were already given.</summary>
public sealed record CursorPayload(int Version, string Kind, string Scope, int Position, PackageSearchRequest? Packages, ObjectSearchRequest? Objects);

[JsonSerializable(typeof(CursorPayload))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class CursorJsonContext : JsonSerializerContext;

/// <summary>
/// Opaque cursors bound to their search: the request, a fingerprint of the scope and a position, sealed
/// (<see cref="CursorSealer"/>) under a key of the index, so a cursor that was changed, comes from another index, or is
/// used with another scope or for the other kind of search is refused instead of answering something else. Both search
/// indexes (the embedded SQLite one and the gateway's PostgreSQL one) page with these.
/// </summary>
public sealed class SearchCursors(byte[] key)
{
    public const string PackagesKind = "packages";
    public const string ObjectsKind = "objects";

    private const int CurrentVersion = 1;

    private readonly CursorSealer _sealer = new(key, "quilt-search cursor v1");

    public string Issue(string kind, SearchScope scope, int position, PackageSearchRequest? packages, ObjectSearchRequest? objects) =>
        _sealer.Seal(JsonSerializer.SerializeToUtf8Bytes(new CursorPayload(CurrentVersion, kind, Fingerprint(scope), position, packages, objects), CursorJsonContext.Default.CursorPayload));

    /// <summary>The buckets the cursor's search asked for.</summary>
    public IReadOnlyList<string> ReadBuckets(string cursor)
    {
        var payload = Verify(cursor);
        return payload.Packages?.Buckets ?? payload.Objects?.Buckets ?? [];
    }

    public CursorPayload Read(string cursor, string kind, SearchScope scope)
    {
        var read = Verify(cursor);
        if (read.Kind != kind)
        {
            throw new SearchQueryException($"This cursor continues a search of {read.Kind}, not of {kind}. Pass it to the search it came from.")
            {
                Field = "cursor",
            };
        }
        if (read.Scope != Fingerprint(scope))
        {
            throw new SearchQueryException("This cursor came from a search over other buckets or other permissions. Run the search again without a cursor.")
            {
                Field = "cursor",
            };
        }
        return read;
    }

    private CursorPayload Verify(string cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        var payload = _sealer.Open(cursor) ?? throw Refused();
        CursorPayload? read;
        try
        {
            read = JsonSerializer.Deserialize(payload, CursorJsonContext.Default.CursorPayload);
        }
        catch (JsonException)
        {
            throw Refused();
        }
        if (read is null || read.Version != CurrentVersion || read.Position < 0)
            throw Refused();
        return read;
    }

    private static SearchQueryException Refused() =>
        new("The cursor is not one this search gave (changed, cut short, or from another index). Pass the cursor exactly as it came, or search again without one.")
        {
            Field = "cursor",
        };

    /// <summary>The scope, canonically: the same buckets, prefixes and package visibility give the same fingerprint.</summary>
    public static string Fingerprint(SearchScope scope)
    {
        var text = new StringBuilder();
        foreach (var bucket in scope.Buckets.OrderBy(b => b.Bucket, StringComparer.Ordinal))
        {
            text.Append(bucket.Bucket).Append('\0').Append(bucket.Packages ? '1' : '0').Append('\0');
            if (bucket.KeyPrefixes is null)
                text.Append('*');
            else
                foreach (var prefix in bucket.KeyPrefixes.Order(StringComparer.Ordinal))
                    text.Append(prefix).Append('\u0001');
            text.Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 12));
    }
}
