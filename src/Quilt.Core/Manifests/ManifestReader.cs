using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core.Hashing;

namespace Quilt.Core.Manifests;

/// <summary>
/// Reads a quilt3 manifest (JSON Lines) as quilt3's Package.load does, streaming. Unknown keys on entry lines are dropped
/// (quilt3 drops them too); a line without physical keys is directory metadata.
/// </summary>
public static class ManifestReader
{
    // The stream is read in blocks of whole lines; lines are independent, so blocks are parsed on every core while the
    // next ones are read, and their entries joined in file order. A few blocks per core are in flight at most.
    private const int BlockBytes = 1 << 20;

    public static async Task<Manifest> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonObject? packageMeta = null;
        var entries = new List<ManifestEntry>();
        var dirs = new List<DirectoryMetadata>();
        var sorted = true;
        int? blankLine = null; // the last line seen empty: only more empty lines may follow it
        var inFlight = new Queue<Task<LineBlock>>();
        var maxInFlight = 2 * Environment.ProcessorCount;
        var nextLineNumber = 1;

        var buffer = ArrayPool<byte>.Shared.Rent(BlockBytes);
        var filled = 0;
        try
        {
            var eof = false;
            while (!eof)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                filled += read;
                eof = read == 0;
                if (filled < buffer.Length && !eof)
                    continue;

                // A block ends after its last newline; the partial line after it starts the next block.
                var length = eof ? filled : buffer.AsSpan(0, filled).LastIndexOf((byte)'\n') + 1;
                if (length == 0)
                {
                    if (!eof)
                    {
                        // One line longer than the buffer: grow it and read on.
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        Buffer.BlockCopy(buffer, 0, bigger, 0, filled);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    continue;
                }

                var block = buffer;
                var firstLine = nextLineNumber;
                nextLineNumber += block.AsSpan(0, length).Count((byte)'\n') + (block[length - 1] == (byte)'\n' ? 0 : 1);
                buffer = ArrayPool<byte>.Shared.Rent(Math.Max(BlockBytes, filled - length));
                Buffer.BlockCopy(block, length, buffer, 0, filled - length);
                filled -= length;
                inFlight.Enqueue(Task.Run(() =>
                {
                    try
                    {
                        return LineBlock.Parse(block.AsSpan(0, length), firstLine);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(block);
                    }
                }, CancellationToken.None));
                if (inFlight.Count >= maxInFlight)
                    Join(await inFlight.Dequeue().ConfigureAwait(false));
            }
            while (inFlight.Count > 0)
                Join(await inFlight.Dequeue().ConfigureAwait(false));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            // After a failure, let the parses still running finish, so each returns its block to the pool.
            foreach (var pending in inFlight)
                await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (packageMeta is null)
            throw new ManifestFormatException("The manifest is empty: its first line must be the package line ({\"version\": \"v0\", ...}).");
        // Keys were checked line by line (errors name the line); what is left to check throws ManifestFormatException.
        return new Manifest(packageMeta, [.. entries], dirs, sorted, entriesChecked: true);

        void Join(LineBlock block)
        {
            if (blankLine is not null && block.FirstNonBlankLine is { } line)
                throw EmptyLine(line - 1);
            if (block.Error is { } error)
                throw error;
            packageMeta ??= block.PackageMeta;
            if (block.Entries.Count > 0)
            {
                sorted &= block.Sorted && (entries.Count == 0
                    || LogicalKeyComparer.Instance.Compare(entries[^1].LogicalKey, block.Entries[0].LogicalKey) <= 0);
            }
            entries.AddRange(block.Entries);
            dirs.AddRange(block.Directories);
            blankLine = block.EndsWithBlankLine ?? (block.FirstNonBlankLine is null ? blankLine : null);
        }
    }

    private static ManifestFormatException EmptyLine(int lineNumber) =>
        new($"Manifest line {lineNumber} is empty; a manifest has one JSON object per line.");

    public static Manifest Read(ReadOnlySpan<byte> utf8)
    {
        using var stream = new MemoryStream(utf8.ToArray(), writable: false);
        return ReadAsync(stream).GetAwaiter().GetResult();
    }

    /// <summary>What one block of lines holds, or the first problem in it (thrown when the block's turn comes).</summary>
    private sealed class LineBlock(int firstLineNumber)
    {
        /// <summary>The package line, when this block starts the manifest.</summary>
        public JsonObject? PackageMeta { get; private set; }

        public List<ManifestEntry> Entries { get; } = [];

        public List<DirectoryMetadata> Directories { get; } = [];

        /// <summary>Whether this block's entries come in tree order (manifests quilt3 writes do).</summary>
        public bool Sorted { get; private set; } = true;

        public int? FirstNonBlankLine { get; private set; }

        public int? EndsWithBlankLine { get; private set; }

        public ManifestFormatException? Error { get; private set; }

        public static LineBlock Parse(ReadOnlySpan<byte> lines, int firstLineNumber)
        {
            var block = new LineBlock(firstLineNumber);
            block.ParseLines(lines);
            return block;
        }

        private void ParseLines(ReadOnlySpan<byte> lines)
        {
            var keyCache = new Dictionary<string, string>(StringComparer.Ordinal);
            var lineNumber = firstLineNumber - 1;
            int? blankLine = null;
            while (!lines.IsEmpty)
            {
                var newline = lines.IndexOf((byte)'\n');
                var line = newline < 0 ? lines : lines[..newline];
                lines = newline < 0 ? default : lines[(newline + 1)..];
                lineNumber++;
                if (line.Length > 0 && line[^1] == (byte)'\r')
                    line = line[..^1];
                if (line.Trim((byte)' ').IsEmpty)
                {
                    blankLine = lineNumber;
                    continue;
                }
                FirstNonBlankLine ??= lineNumber;
                if (blankLine is not null)
                {
                    Error = EmptyLine(lineNumber - 1);
                    return;
                }
                try
                {
                    if (lineNumber == 1)
                        PackageMeta = ReadPackageLine(line);
                    else if (ReadEntryLine(line, Directories, keyCache) is { } entry)
                    {
                        Manifest.Check(entry);
                        if (Entries.Count > 0 && LogicalKeyComparer.Instance.Compare(Entries[^1].LogicalKey, entry.LogicalKey) > 0)
                            Sorted = false;
                        Entries.Add(entry);
                    }
                }
                catch (InvalidNameException ex)
                {
                    Error = new ManifestFormatException($"Manifest line {lineNumber}: {ex.Message}", ex);
                    return;
                }
                catch (JsonException ex)
                {
                    Error = new ManifestFormatException($"Manifest line {lineNumber} is not valid JSON: {ex.Message}", ex);
                    return;
                }
                catch (ManifestFormatException ex)
                {
                    Error = new ManifestFormatException($"Manifest line {lineNumber}: {ex.Message}", ex);
                    return;
                }
            }
            EndsWithBlankLine = blankLine;
        }
    }

    private static JsonObject ReadPackageLine(ReadOnlySpan<byte> line)
    {
        var node = JsonNode.Parse(line) as JsonObject
            ?? throw new ManifestFormatException("the package line must be a JSON object.");
        node.Remove("top_hash"); // obsolete field quilt3 drops on load
        return node;
    }

    /// <summary>The entry on the line, or null for a directory metadata line (added to <paramref name="dirs"/>).</summary>
    private static ManifestEntry? ReadEntryLine(ReadOnlySpan<byte> line, List<DirectoryMetadata> dirs, Dictionary<string, string> keyCache)
    {
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new ManifestFormatException("an entry line must be a JSON object.");

        string? logicalKey = null;
        string[]? physicalKeys = null;
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
                physicalKeys = ReadPhysicalKeys(ref reader);
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

        if (physicalKeys is null || physicalKeys.Length == 0)
        {
            dirs.Add(new DirectoryMetadata(logicalKey, hasMeta ? meta ?? new JsonObject() : null));
            return null;
        }
        if (size is null)
            throw new ManifestFormatException($"entry '{logicalKey}' has no size.");
        if (hash is null)
            throw new ManifestFormatException($"entry '{logicalKey}' has no hash.");
        return new ManifestEntry(logicalKey, physicalKeys, size.Value, hash, meta);
    }

    private static string[] ReadPhysicalKeys(ref Utf8JsonReader reader)
    {
        // Nearly always one key: an exact array, no list.
        string? first = null;
        List<string>? more = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var key = reader.TokenType == JsonTokenType.String ? reader.GetString()!
                : throw new ManifestFormatException("physical_keys must be a list of URLs.");
            if (first is null)
                first = key;
            else
                (more ??= [first]).Add(key);
        }
        return more is not null ? [.. more] : first is not null ? [first] : [];
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
