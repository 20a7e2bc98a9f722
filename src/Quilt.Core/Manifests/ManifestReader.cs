using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core.Hashing;

namespace Quilt.Core.Manifests;

/// <summary>
/// Reads a quilt3 manifest (JSON Lines) as quilt3's Package.load does, streaming line by line. Unknown keys on entry
/// lines are dropped (quilt3 drops them too); a line without physical keys is directory metadata.
/// </summary>
public static class ManifestReader
{
    public static async Task<Manifest> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonObject? packageMeta = null;
        var entries = new List<ManifestEntry>();
        var dirs = new List<DirectoryMetadata>();
        var lineNumber = 0;
        var sawBlank = false;
        var keyCache = new Dictionary<string, string>(StringComparer.Ordinal);

        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int start = 0, end = 0;
            var eof = false;
            while (true)
            {
                var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                if (newline < 0 && !eof)
                {
                    // Move the partial line to the front, grow if one line is larger than the buffer, read more.
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                    if (end == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        Buffer.BlockCopy(buffer, 0, bigger, 0, end);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                        eof = true;
                    end += read;
                    continue;
                }

                var lineLength = newline < 0 ? end - start : newline;
                if (newline < 0 && lineLength == 0)
                    break;
                var line = buffer.AsSpan(start, lineLength);
                start += lineLength + (newline < 0 ? 0 : 1);
                lineNumber++;
                if (line.Length > 0 && line[^1] == (byte)'\r')
                    line = line[..^1];
                if (line.Trim((byte)' ').IsEmpty)
                {
                    sawBlank = true;
                    continue;
                }
                if (sawBlank)
                    throw new ManifestFormatException($"Manifest line {lineNumber - 1} is empty; a manifest has one JSON object per line.");

                try
                {
                    if (packageMeta is null)
                        packageMeta = ReadPackageLine(line);
                    else
                        ReadEntryLine(line, entries, dirs, keyCache);
                }
                catch (JsonException ex)
                {
                    throw new ManifestFormatException($"Manifest line {lineNumber} is not valid JSON: {ex.Message}", ex);
                }
                catch (ManifestFormatException ex)
                {
                    throw new ManifestFormatException($"Manifest line {lineNumber}: {ex.Message}", ex);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (packageMeta is null)
            throw new ManifestFormatException("The manifest is empty: its first line must be the package line ({\"version\": \"v0\", ...}).");
        try
        {
            return new Manifest(packageMeta, entries, dirs);
        }
        catch (InvalidNameException ex)
        {
            throw new ManifestFormatException(ex.Message, ex);
        }
    }

    public static Manifest Read(ReadOnlySpan<byte> utf8)
    {
        using var stream = new MemoryStream(utf8.ToArray(), writable: false);
        return ReadAsync(stream).GetAwaiter().GetResult();
    }

    private static JsonObject ReadPackageLine(ReadOnlySpan<byte> line)
    {
        var node = JsonNode.Parse(line) as JsonObject
            ?? throw new ManifestFormatException("the package line must be a JSON object.");
        node.Remove("top_hash"); // obsolete field quilt3 drops on load
        return node;
    }

    private static void ReadEntryLine(ReadOnlySpan<byte> line, List<ManifestEntry> entries, List<DirectoryMetadata> dirs, Dictionary<string, string> keyCache)
    {
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new ManifestFormatException("an entry line must be a JSON object.");

        string? logicalKey = null;
        List<string>? physicalKeys = null;
        long? size = null;
        ObjectHash? hash = null;
        JsonObject? meta = null;
        var hasMeta = false;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("logical_key"u8))
            {
                logicalKey = reader.TokenType == JsonTokenType.String ? reader.GetString()
                    : throw new ManifestFormatException("logical_key must be a string.");
            }
            else if (name.SequenceEqual("physical_keys"u8))
            {
                if (reader.TokenType == JsonTokenType.Null)
                    continue;
                if (reader.TokenType != JsonTokenType.StartArray)
                    throw new ManifestFormatException("physical_keys must be a list of URLs.");
                physicalKeys = new List<string>(1);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    physicalKeys.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()!
                        : throw new ManifestFormatException("physical_keys must be a list of URLs."));
                }
            }
            else if (name.SequenceEqual("size"u8))
            {
                if (reader.TokenType == JsonTokenType.Null)
                    continue;
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var s) || reader.ValueSpan.IndexOfAny("."u8[0], (byte)'e', (byte)'E') >= 0)
                    throw new ManifestFormatException("size must be a whole number of bytes.");
                size = s;
            }
            else if (name.SequenceEqual("hash"u8))
            {
                hash = reader.TokenType == JsonTokenType.Null ? null : ReadHash(ref reader, keyCache);
            }
            else if (name.SequenceEqual("meta"u8))
            {
                hasMeta = true;
                if (reader.TokenType == JsonTokenType.Null)
                    continue;
                if (reader.TokenType != JsonTokenType.StartObject)
                    throw new ManifestFormatException("meta must be a JSON object.");
                var checkpoint = reader;
                reader.Read();
                if (reader.TokenType == JsonTokenType.EndObject)
                    continue; // {} is the common case: keep no object for it
                reader = checkpoint;
                meta = JsonNode.Parse(ref reader) as JsonObject;
            }
            else
            {
                reader.Skip();
            }
        }

        if (logicalKey is null)
            throw new ManifestFormatException("the entry has no logical_key.");

        if (physicalKeys is null || physicalKeys.Count == 0)
        {
            dirs.Add(new DirectoryMetadata(logicalKey, hasMeta ? meta ?? new JsonObject() : null));
            return;
        }
        if (size is null)
            throw new ManifestFormatException($"entry '{logicalKey}' has no size.");
        if (hash is null)
            throw new ManifestFormatException($"entry '{logicalKey}' has no hash.");
        entries.Add(new ManifestEntry(logicalKey, physicalKeys, size.Value, hash, meta));
    }

    private static ObjectHash ReadHash(ref Utf8JsonReader reader, Dictionary<string, string> keyCache)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new ManifestFormatException("hash must be an object {\"type\": ..., \"value\": ...}.");
        string? type = null, value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("type"u8);
            var isValue = reader.ValueTextEquals("value"u8);
            reader.Read();
            if (isType && reader.TokenType == JsonTokenType.String)
            {
                var t = reader.GetString()!;
                // Hash type names repeat on every line: share one string.
                if (!keyCache.TryGetValue(t, out type))
                    keyCache[t] = type = t;
            }
            else if (isValue && reader.TokenType == JsonTokenType.String)
            {
                value = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }
        if (type is null || value is null)
            throw new ManifestFormatException("hash needs a string type and value.");
        return new ObjectHash(type, value);
    }
}
