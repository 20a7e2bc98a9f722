using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quilt.Storage.Local;

/// <summary>
/// Content type and user metadata given at put time, which a plain file cannot carry. One JSON file per object at
/// <c>&lt;root&gt;/.quilt-mcp/meta/&lt;bucket&gt;/&lt;h[0..2]&gt;/&lt;h&gt;.json</c>, h = SHA-256 of the key. A hash rather than
/// a mirror of the key: a mirror with a suffix collides (the sidecar of "a" would be the file "a.json" while the
/// sidecar of "a.json/x" needs "a.json" to be a folder). Each sidecar records the object's ETag and is ignored
/// when the file has changed since (written by another program, or a put that lost a race).
/// </summary>
internal sealed class MetadataSidecars(string metaRoot, Func<string> newTempPath)
{
    public string PathFor(string bucket, string key)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return Path.Join(metaRoot, bucket, hash[..2], hash + ".json");
    }

    /// <summary>The sidecar of an object whose current ETag is <paramref name="etag"/>, or null if none applies.</summary>
    public Sidecar? Read(string bucket, string key, string etag)
    {
        Sidecar? sidecar;
        try
        {
            using var stream = new FileStream(PathFor(bucket, key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            sidecar = JsonSerializer.Deserialize(stream, LocalStoreJsonContext.Default.Sidecar);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null; // none, or unreadable: the object still reads, with its type guessed from the extension
        }
        return sidecar is not null && sidecar.Key == key && sidecar.ETag == etag ? sidecar : null;
    }

    /// <summary>Writes (atomically, via a temp file) or, when there is nothing to keep, removes the sidecar.</summary>
    public void Write(string bucket, string key, string etag, string? contentType, IReadOnlyDictionary<string, string>? metadata)
    {
        if (contentType is null && (metadata is null || metadata.Count == 0))
        {
            Delete(bucket, key);
            return;
        }
        var target = PathFor(bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = newTempPath();
        try
        {
            var sidecar = new Sidecar(key, etag, contentType, metadata?.ToDictionary(StringComparer.Ordinal));
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                JsonSerializer.Serialize(stream, sidecar, LocalStoreJsonContext.Default.Sidecar);
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public void Delete(string bucket, string key)
    {
        try
        {
            File.Delete(PathFor(bucket, key));
        }
        catch (DirectoryNotFoundException)
        {
            // No sidecar was ever written in this folder.
        }
    }
}

internal sealed record Sidecar(string Key, string ETag, string? ContentType, Dictionary<string, string>? Metadata);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Sidecar))]
internal sealed partial class LocalStoreJsonContext : JsonSerializerContext;
