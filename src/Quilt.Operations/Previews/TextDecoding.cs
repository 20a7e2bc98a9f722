using System.Text;

namespace Quilt.Operations.Previews;

/// <summary>Decoding a byte range that may begin or end in the middle of a character.</summary>
internal static class TextDecoding
{
    public const string Names = "utf-8, utf-16le, utf-16be, utf-32le, utf-32be, latin1, ascii";

    /// <summary>The encoding for a name (case-insensitive, common aliases accepted), or null when unknown.</summary>
    public static (Encoding Encoding, string Name)? Find(string? name)
    {
        var key = (name ?? "utf-8").Trim().ToLowerInvariant().Replace("_", "-", StringComparison.Ordinal);
        return key switch
        {
            "utf-8" or "utf8" => (new UTF8Encoding(false), "utf-8"),
            "utf-16" or "utf16" or "utf-16le" or "utf16le" or "unicode" => (new UnicodeEncoding(false, false), "utf-16le"),
            "utf-16be" or "utf16be" => (new UnicodeEncoding(true, false), "utf-16be"),
            "utf-32" or "utf32" or "utf-32le" or "utf32le" => (new UTF32Encoding(false, false), "utf-32le"),
            "utf-32be" or "utf32be" => (new UTF32Encoding(true, false), "utf-32be"),
            "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1" => (Encoding.Latin1, "latin1"),
            "ascii" or "us-ascii" => (Encoding.ASCII, "ascii"),
            _ => null,
        };
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/>, skipping a partial character at the start (unless <paramref name="atStart"/>) and
    /// leaving one at the end (unless <paramref name="atEnd"/>). Start and End say which bytes were decoded.
    /// </summary>
    public static (string Text, int Start, int End) Decode(ReadOnlySpan<byte> bytes, Encoding encoding, bool atStart, bool atEnd)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        int start = 0, end = bytes.Length;
        switch (encoding)
        {
            case UTF8Encoding:
                if (!atStart)
                {
                    while (start < end && start < 3 && (bytes[start] & 0xC0) == 0x80)
                        start++;
                }
                if (!atEnd)
                    end = start + CompleteUtf8Length(bytes[start..end]);
                if (atStart && bytes[start..end].StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
                    start += 3;
                break;
            case UnicodeEncoding:
                if (!atEnd)
                {
                    end -= (end - start) % 2;
                    if (end - start >= 2)
                    {
                        var bigEndian = encoding.CodePage == 1201; // UTF-16BE
                        var last = bigEndian ? (bytes[end - 2] << 8) | bytes[end - 1] : (bytes[end - 1] << 8) | bytes[end - 2];
                        if (char.IsHighSurrogate((char)last))
                            end -= 2;
                    }
                }
                break;
            case UTF32Encoding:
                if (!atEnd)
                    end -= (end - start) % 4;
                break;
        }
        var text = encoding.GetString(bytes[start..end]);
        if (atStart && text.Length > 0 && text[0] == '\uFEFF')
            text = text[1..];
        return (text, start, end);
    }

    /// <summary>How many leading bytes form whole UTF-8 characters (a cut sequence at the end is left out).</summary>
    private static int CompleteUtf8Length(ReadOnlySpan<byte> bytes)
    {
        var n = bytes.Length;
        for (var back = 1; back <= Math.Min(4, n); back++)
        {
            var b = bytes[n - back];
            if ((b & 0xC0) == 0x80)
                continue; // continuation byte: keep looking for the lead byte
            var need = b switch
            {
                < 0x80 => 1,
                >= 0xF0 => 4,
                >= 0xE0 => 3,
                >= 0xC0 => 2,
                _ => 1,
            };
            return need > back ? n - back : n;
        }
        return n;
    }

    /// <summary>NUL bytes do not occur in text of the single-byte encodings or UTF-8: a strong sign of binary data.</summary>
    public static bool LooksBinary(ReadOnlySpan<byte> bytes, Encoding encoding) =>
        encoding is not (UnicodeEncoding or UTF32Encoding) && bytes.Contains((byte)0);
}
