using System.Buffers;
using System.Text;

namespace Quilt.Core;

/// <summary>Python's urllib.parse quote/unquote rules, which quilt3 uses for physical keys and URIs.</summary>
public static class UrlEncoding
{
    private static readonly SearchValues<char> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~");

    /// <summary>quote(s, safe='/'): UTF-8 bytes, every byte outside [A-Za-z0-9_.~-/] as %XX.</summary>
    public static string Quote(string value, string safe = "/") => Encode(value, safe, plus: false);

    /// <summary>quote_plus(s, safe=''): as <see cref="Quote"/> but spaces become '+' and '/' is encoded.</summary>
    public static string QuotePlus(string value) => Encode(value, "", plus: true);

    private static string Encode(string value, string safe, bool plus)
    {
        var sb = new StringBuilder(value.Length + 8);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c < 0x80 && (Unreserved.Contains(c) || safe.Contains(c, StringComparison.Ordinal)))
            {
                sb.Append(c);
                continue;
            }
            if (plus && c == ' ')
            {
                sb.Append('+');
                continue;
            }
            int count;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                count = new Rune(c, value[i + 1]).EncodeToUtf8(utf8);
                i++;
            }
            else
            {
                count = (Rune.TryCreate(c, out var r) ? r : Rune.ReplacementChar).EncodeToUtf8(utf8);
            }
            for (var b = 0; b < count; b++)
                sb.Append('%').Append(utf8[b].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>unquote: %XX sequences decoded as UTF-8 (invalid sequences become U+FFFD, as Python's 'replace').</summary>
    public static string Unquote(string value) => Decode(value, plus: false);

    public static string UnquotePlus(string value) => Decode(value, plus: true);

    private static string Decode(string value, bool plus)
    {
        if (value.IndexOf('%', StringComparison.Ordinal) < 0 && !(plus && value.Contains('+', StringComparison.Ordinal)))
            return value;
        var bytes = new List<byte>(value.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%' && i + 2 < value.Length && IsHex(value[i + 1]) && IsHex(value[i + 2]))
            {
                bytes.Add((byte)((HexValue(value[i + 1]) << 4) | HexValue(value[i + 2])));
                i += 2;
            }
            else if (plus && c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c < 0x80)
            {
                bytes.Add((byte)c);
            }
            else
            {
                int n;
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    n = new Rune(c, value[i + 1]).EncodeToUtf8(utf8);
                    i++;
                }
                else
                {
                    n = (Rune.TryCreate(c, out var r) ? r : Rune.ReplacementChar).EncodeToUtf8(utf8);
                }
                for (var b = 0; b < n; b++)
                    bytes.Add(utf8[b]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
