using System.Text;
using Quilt.Core.Json;

namespace Quilt.Core.Manifests;

/// <summary>
/// Writes a manifest byte for byte as quilt3's Package.dump: the package line, directory metadata lines, then entries,
/// each followed by '\n'; Python's default separators; non-ASCII as UTF-8.
/// </summary>
public static class ManifestWriter
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static async Task WriteAsync(Manifest manifest, Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new StreamWriter(stream, Utf8NoBom, bufferSize: 1 << 16, leaveOpen: true) { NewLine = "\n" };
        await using (writer.ConfigureAwait(false))
        {
            var sb = new StringBuilder(512);
            foreach (var line in Lines(manifest, sb))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await writer.WriteAsync(line.ToString().AsMemory(), cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync('\n').ConfigureAwait(false);
            }
        }
    }

    public static byte[] ToBytes(Manifest manifest)
    {
        using var ms = new MemoryStream();
        WriteAsync(manifest, ms).GetAwaiter().GetResult();
        return ms.ToArray();
    }

    private static IEnumerable<StringBuilder> Lines(Manifest manifest, StringBuilder sb)
    {
        PythonJson.Write(sb, manifest.PackageMeta, PythonJsonStyle.Manifest);
        yield return sb;
        foreach (var dir in manifest.DirectoryMetadata)
        {
            sb.Clear().Append("{\"logical_key\": ");
            PythonJson.WriteString(sb, dir.LogicalKey, ensureAscii: false);
            sb.Append(", \"meta\": ");
            PythonJson.Write(sb, dir.Meta, PythonJsonStyle.Manifest);
            sb.Append('}');
            yield return sb;
        }
        foreach (var entry in manifest.Entries)
        {
            sb.Clear().Append("{\"logical_key\": ");
            PythonJson.WriteString(sb, entry.LogicalKey, ensureAscii: false);
            sb.Append(", \"physical_keys\": [");
            for (var i = 0; i < entry.PhysicalKeys.Count; i++)
            {
                if (i > 0)
                    sb.Append(", ");
                PythonJson.WriteString(sb, entry.PhysicalKeys[i], ensureAscii: false);
            }
            sb.Append("], \"size\": ").Append(entry.SizeText);
            sb.Append(", \"hash\": {\"type\": ");
            PythonJson.WriteString(sb, entry.Hash.Type, ensureAscii: false);
            sb.Append(", \"value\": ");
            PythonJson.WriteString(sb, entry.Hash.Value, ensureAscii: false);
            sb.Append("}, \"meta\": ");
            if (entry.Meta is null)
                sb.Append("{}");
            else
                PythonJson.Write(sb, entry.Meta, PythonJsonStyle.Manifest);
            sb.Append('}');
            yield return sb;
        }
    }
}
