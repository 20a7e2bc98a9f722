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
    public static string Compute(JsonObject packageMeta, IEnumerable<ManifestEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(packageMeta);
        ArgumentNullException.ThrowIfNull(entries);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var sb = new StringBuilder(256);
        byte[] buffer = new byte[1024];

        void Feed()
        {
            // Canonical JSON is pure ASCII, so one char is one byte; encode the builder's chunks without a string.
            if (buffer.Length < sb.Length)
                buffer = new byte[Math.Max(sb.Length, buffer.Length * 2)];
            var n = 0;
            foreach (var chunk in sb.GetChunks())
                n += Encoding.ASCII.GetBytes(chunk.Span, buffer.AsSpan(n));
            sha.AppendData(buffer, 0, n);
            sb.Clear();
        }

        if (packageMeta.ContainsKey("top_hash"))
        {
            packageMeta = (JsonObject)packageMeta.DeepClone();
            packageMeta.Remove("top_hash");
        }
        PythonJson.Write(sb, packageMeta, PythonJsonStyle.Canonical);
        Feed();
        foreach (var entry in entries)
        {
            AppendCanonicalEntry(sb, entry);
            Feed();
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
        sb.Append(",\"size\":").Append(entry.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('}');
    }
}
