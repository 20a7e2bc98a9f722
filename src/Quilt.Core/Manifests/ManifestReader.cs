using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Core.Json;

namespace Quilt.Core.Manifests;

/// <summary>
/// Reads a quilt3 manifest (JSON Lines) as quilt3's Package.load does, streaming: whatever quilt3 reads is read (odd
/// logical keys such as <c>a//b</c> or <c>/abs</c> included; what is unsafe to do with them is refused where it is done),
/// JSON as Python's json reads it (a repeated key keeps its last value, lone surrogate escapes stay). Unknown keys on
/// entry lines are dropped (quilt3 drops them too); a line without physical keys is directory metadata.
/// </summary>
public static class ManifestReader
{
    // The stream is read in blocks of whole lines; lines are independent, so blocks are parsed on every core while the
    // next ones are read, and their entries joined in file order. A few blocks per core are in flight at most.
    private const int BlockBytes = 1 << 20;

    /// <summary>
    /// The longest line read, newline included (64 MiB): far above any metadata quilt3 users keep on a package or entry
    /// (the catalog shows a few KiB), and a bound on the memory one line takes instead of a buffer grown without end.
    /// </summary>
    public const int MaxLineBytes = 64 << 20;

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
                        if (buffer.Length >= MaxLineBytes)
                        {
                            // A problem on an earlier line is the one to report.
                            while (inFlight.Count > 0)
                                Join(await inFlight.Dequeue().ConfigureAwait(false));
                            throw new ManifestFormatException(
                                $"Manifest line {nextLineNumber} is longer than {MaxLineBytes >> 20} MiB, the most one line may hold; "
                                + "metadata that large belongs in a file of the package, not in the manifest.");
                        }
                        // One line longer than the buffer: grow it and read on.
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxLineBytes));
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
            // quilt3 gives a directory line naming no folder ('d', no '/') to the package: its user_meta.
            if (block.HasRootMeta)
                packageMeta!["user_meta"] = block.RootMeta;
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

        /// <summary>Whether a directory line without '/' set the package's user_meta (to <see cref="RootMeta"/>; the last one wins).</summary>
        public bool HasRootMeta { get; private set; }

        public JsonNode? RootMeta { get; private set; }

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
                    else if (ReadEntryLine(line, Directories, keyCache, out var rootMeta) is { } entry)
                    {
                        Manifest.Check(entry);
                        if (Entries.Count > 0 && LogicalKeyComparer.Instance.Compare(Entries[^1].LogicalKey, entry.LogicalKey) > 0)
                            Sorted = false;
                        Entries.Add(entry);
                    }
                    else if (rootMeta is { } meta)
                    {
                        HasRootMeta = true;
                        RootMeta = meta.Value;
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
        var node = PythonJson.Parse(line) as JsonObject
            ?? throw new ManifestFormatException("the package line must be a JSON object.");
        node.Remove("top_hash"); // obsolete field quilt3 drops on load
        return node;
    }

    /// <summary>
    /// The entry on the line, or null for a directory metadata line: added to <paramref name="dirs"/>, or, when its key
    /// names no folder, returned as <paramref name="rootMeta"/> (the package's new user_meta).
    /// </summary>
    private static ManifestEntry? ReadEntryLine(
        ReadOnlySpan<byte> line, List<DirectoryMetadata> dirs, Dictionary<string, string> keyCache, out StrongBox<JsonNode?>? rootMeta)
    {
        rootMeta = null;
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new ManifestFormatException("an entry line must be a JSON object.");

        string? logicalKey = null;
        string[]? physicalKeys = null;
        long? size = null;
        var sizeIsFloat = false;
        ObjectHash? hash = null;
        JsonNode? meta = null;
        var hasMeta = false;

        // A key given twice keeps its last value, as Python's json does.
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("logical_key"u8))
            {
                logicalKey = reader.TokenType == JsonTokenType.String ? PythonJson.ReadString(ref reader)
                    : throw new ManifestFormatException("logical_key must be a string.");
            }
            else if (name.SequenceEqual("physical_keys"u8))
            {
                physicalKeys = null;
                if (reader.TokenType == JsonTokenType.Null)
                    continue;
                if (reader.TokenType != JsonTokenType.StartArray)
                    throw new ManifestFormatException("physical_keys must be a list of URLs.");
                physicalKeys = ReadPhysicalKeys(ref reader);
            }
            else if (name.SequenceEqual("size"u8))
            {
                size = null;
                if (reader.TokenType == JsonTokenType.Null)
                    continue;
                (size, sizeIsFloat) = ReadSize(ref reader);
            }
            else if (name.SequenceEqual("hash"u8))
            {
                hash = reader.TokenType == JsonTokenType.Null ? null : ReadHash(ref reader, keyCache);
            }
            else if (name.SequenceEqual("meta"u8))
            {
                hasMeta = true;
                meta = null;
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var checkpoint = reader;
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.EndObject)
                        continue; // {} is the common case: keep no object for it
                    reader = checkpoint;
                }
                meta = PythonJson.ReadNode(ref reader);
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
            // quilt3 gives the line's meta to the folder holding its last segment: 'd/' to d, 'a/b' to a, 'd' to the package.
            var slash = logicalKey.LastIndexOf('/');
            if (slash >= 0)
            {
                dirs.Add(new DirectoryMetadata(logicalKey[..(slash + 1)], hasMeta ? meta ?? new JsonObject() : null));
                return null;
            }
            if (!hasMeta)
                throw new ManifestFormatException($"'{logicalKey}' has neither physical_keys (an entry) nor meta (directory metadata).");
            rootMeta = new StrongBox<JsonNode?>(meta ?? new JsonObject());
            return null;
        }
        if (size is null)
            throw new ManifestFormatException($"entry '{logicalKey}' has no size.");
        if (hash is null)
            throw new ManifestFormatException($"entry '{logicalKey}' has no hash.");
        // Python's 'meta or {}': null is {}; another value than an object is no metadata this reader can keep.
        if (meta is not null and not JsonObject)
            throw new ManifestFormatException($"entry '{logicalKey}': meta must be a JSON object.");
        return new ManifestEntry(logicalKey, physicalKeys, size.Value, hash, (JsonObject?)meta) { SizeIsFloat = sizeIsFloat };
    }

    /// <summary>A whole number of bytes; written as a float (<c>1.0</c>, as some writers do) it stays one for hashing.</summary>
    private static (long Size, bool IsFloat) ReadSize(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            var isFloat = reader.ValueSpan.IndexOfAny(".eE"u8) >= 0;
            if (!isFloat && reader.TryGetInt64(out var whole))
                return (whole, false);
            // Below 2^63, and whole: a float that names a byte count exactly.
            if (isFloat && reader.TryGetDouble(out var d) && Math.Abs(d) < 9.2e18 && d == Math.Floor(d))
                return ((long)d, true);
        }
        throw new ManifestFormatException("size must be a whole number of bytes.");
    }

    private static string[] ReadPhysicalKeys(ref Utf8JsonReader reader)
    {
        // Nearly always one key: an exact array, no list.
        string? first = null;
        List<string>? more = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var key = reader.TokenType == JsonTokenType.String ? PythonJson.ReadString(ref reader)
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
                var t = PythonJson.ReadString(ref reader);
                // Hash type names repeat on every line: share one string.
                if (!keyCache.TryGetValue(t, out type))
                    keyCache[t] = type = t;
            }
            else if (isValue && reader.TokenType == JsonTokenType.String)
            {
                value = PythonJson.ReadString(ref reader);
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
