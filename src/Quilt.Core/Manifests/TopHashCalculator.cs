using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core.Json;

namespace Quilt.Core.Manifests;

/// <summary>
/// quilt3's top hash: SHA-256 over the canonical JSON of the package line, then of each entry's
/// <c>{"hash","logical_key","meta","size"}</c> in manifest order. Physical keys and directory metadata are not covered.
/// </summary>
public static class TopHashCalculator
{
    // Entries serialized per task. Serializing is most of the work and each entry's text stands alone, so blocks are
    // serialized on every core; only the SHA-256 over them runs in order. A round holds a few blocks per core, which
    // bounds the memory (about 200 bytes per entry) whatever the manifest's size.
    private const int BlockEntries = 2048;

    public static string Compute(JsonObject packageMeta, IEnumerable<ManifestEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(packageMeta);
        ArgumentNullException.ThrowIfNull(entries);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        if (packageMeta.ContainsKey("top_hash"))
        {
            packageMeta = (JsonObject)packageMeta.DeepClone();
            packageMeta.Remove("top_hash");
        }
        var list = entries as IReadOnlyList<ManifestEntry> ?? entries.ToList();
        var blockCount = (list.Count + BlockEntries - 1) / BlockEntries;
        var blocks = new CanonicalBlock[Math.Max(1, Math.Min(blockCount, 4 * Environment.ProcessorCount))];
        for (var i = 0; i < blocks.Length; i++)
            blocks[i] = new CanonicalBlock(list.Count);
        try
        {
            blocks[0].Append(packageMeta);
            blocks[0].AppendTo(sha);
            for (var first = 0; first < blockCount; first += blocks.Length)
            {
                var round = Math.Min(blocks.Length, blockCount - first);
                if (round == 1)
                    blocks[0].Serialize(list, first * BlockEntries);
                else
                    Parallel.For(0, round, i => blocks[i].Serialize(list, (first + i) * BlockEntries));
                for (var i = 0; i < round; i++)
                    blocks[i].AppendTo(sha);
            }
        }
        finally
        {
            foreach (var block in blocks)
                block.Dispose();
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    internal static void AppendCanonicalEntry(StringBuilder sb, ManifestEntry entry)
    {
        sb.Append("{\"hash\":{\"type\":");
        PythonJson.WriteString(sb, entry.Hash.Type, ensureAscii: true);
        sb.Append(",\"value\":");
        PythonJson.WriteString(sb, entry.Hash.Value, ensureAscii: true);
        sb.Append("},\"logical_key\":");
        PythonJson.WriteString(sb, entry.LogicalKey, ensureAscii: true);
        sb.Append(",\"meta\":");
        if (entry.Meta is null || entry.Meta.Count == 0)
            sb.Append("{}");
        else
            PythonJson.Write(sb, entry.Meta, PythonJsonStyle.Canonical);
        sb.Append(",\"size\":").Append(entry.SizeText).Append('}');
    }

    /// <summary>The canonical bytes of some entries (buffers reused from round to round, pooled across calls).</summary>
    private sealed class CanonicalBlock(int entryCount) : IDisposable
    {
        // One entry's text at a time: a builder this small stays one chunk, so clearing it frees nothing and allocates
        // nothing (clearing a builder of many chunks allocates one as large as all of them).
        private readonly StringBuilder _text = new(512);
        // Sized for a block of typical entries: a buffer grown step by step would be re-allocated on the large object
        // heap, and every such allocation counts toward a full collection of the whole manifest just read.
        private byte[] _bytes = ArrayPool<byte>.Shared.Rent(Math.Clamp(entryCount * 256, 1024, BlockEntries * 256));
        private int _length;

        public void Dispose() => ArrayPool<byte>.Shared.Return(_bytes);

        public void Append(JsonObject packageMeta)
        {
            PythonJson.Write(_text, packageMeta, PythonJsonStyle.Canonical);
            Encode();
        }

        public void Serialize(IReadOnlyList<ManifestEntry> entries, int start)
        {
            var end = Math.Min(entries.Count, start + BlockEntries);
            for (var i = start; i < end; i++)
            {
                AppendCanonicalEntry(_text, entries[i]);
                Encode();
            }
        }

        public void AppendTo(IncrementalHash sha)
        {
            sha.AppendData(_bytes, 0, _length);
            _length = 0;
        }

        private void Encode()
        {
            // Canonical JSON is pure ASCII, so one char is one byte.
            if (_bytes.Length - _length < _text.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_length + _text.Length, _bytes.Length * 2));
                Buffer.BlockCopy(_bytes, 0, bigger, 0, _length);
                ArrayPool<byte>.Shared.Return(_bytes);
                _bytes = bigger;
            }
            foreach (var chunk in _text.GetChunks())
                _length += Encoding.ASCII.GetBytes(chunk.Span, _bytes.AsSpan(_length));
            _text.Clear();
        }
    }
}
