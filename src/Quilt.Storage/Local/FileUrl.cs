using System.Text;

namespace Quilt.Storage.Local;

/// <summary>
/// file:// URLs as quilt3 writes them: the absolute path percent-encoded like Python's
/// <c>urllib.parse.quote(path, safe='/')</c>. Stand-in until Quilt.Core.PhysicalKey lands on main.
/// </summary>
internal static class FileUrl
{
    public static string FromPath(string absolutePath)
    {
        var path = absolutePath.Replace('\\', '/');
        if (!path.StartsWith('/'))
            path = "/" + path; // a Windows drive path, C:/x → /C:/x
        var bytes = Encoding.UTF8.GetBytes(path);
        var sb = new StringBuilder("file://", bytes.Length + 16);
        foreach (var b in bytes)
        {
            if (IsUnreserved(b) || b == '/')
                sb.Append((char)b);
            else
                sb.Append('%').Append(Convert.ToHexString([b]));
        }
        return sb.ToString();
    }

    /// <summary>The decoded absolute path of a file:// URL, or null when the text is not one (or is malformed).</summary>
    public static string? ToPath(string url)
    {
        const string Scheme = "file://";
        if (!url.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            return null;
        var rest = url.AsSpan(Scheme.Length);
        if (rest.StartsWith("localhost/", StringComparison.OrdinalIgnoreCase))
            rest = rest["localhost".Length..];
        if (rest.IsEmpty || rest[0] != '/')
            return null; // another host, or file:relative
        if (rest.ContainsAny('?', '#'))
            return null; // quote() encodes these in names, so a raw one is a query or fragment, not part of a path

        var bytes = new List<byte>(rest.Length);
        Span<byte> buffer = stackalloc byte[4];
        for (var i = 0; i < rest.Length; i++)
        {
            var c = rest[i];
            if (c == '%')
            {
                if (i + 2 >= rest.Length || !byte.TryParse(rest.Slice(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var b))
                    return null;
                bytes.Add(b);
                i += 2;
            }
            else if (c < 0x80)
            {
                bytes.Add((byte)c);
            }
            else
            {
                // Raw non-ASCII (an IRI rather than a URL): take it as its UTF-8.
                var isPair = char.IsHighSurrogate(c) && i + 1 < rest.Length;
                var written = Encoding.UTF8.GetBytes(isPair ? rest.Slice(i, 2) : rest.Slice(i, 1), buffer);
                if (isPair)
                    i++;
                for (var j = 0; j < written; j++)
                    bytes.Add(buffer[j]);
            }
        }
        try
        {
            var path = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
            return OperatingSystem.IsWindows() && path.Length > 2 && path[2] == ':' && char.IsAsciiLetter(path[1]) ? path[1..] : path; // /C:/x → C:/x
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static bool IsUnreserved(byte b) =>
        b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'_' or (byte)'.' or (byte)'-' or (byte)'~';
}
