using System.Globalization;
using System.Text;
using Amazon.S3.Model;

namespace Quilt.Storage.S3;

/// <summary>
/// User metadata travels as HTTP headers, which carry ASCII only. Other values go as an RFC 2047 encoded word
/// (=?UTF-8?B?...?=), which AWS decodes and stores as text and which is decoded again on the way back, so
/// non-ASCII values round-trip on AWS and on servers that keep the encoded form as it is.
/// </summary>
internal static class S3Metadata
{
    /// <summary>Throws <see cref="ArgumentException"/> for a name that cannot be an HTTP header.</summary>
    public static void Check(IReadOnlyDictionary<string, string>? metadata)
    {
        foreach (var name in metadata?.Keys ?? [])
        {
            if (name.Length == 0 || !name.All(IsTokenChar))
                throw new ArgumentException(
                    $"Metadata name '{name}' cannot be sent to S3: use ASCII letters, digits, '-' and '_' (names are stored in lower case).",
                    nameof(metadata));
        }
    }

    public static void AddTo(MetadataCollection into, IReadOnlyDictionary<string, string>? metadata)
    {
        Check(metadata);
        foreach (var (name, value) in metadata ?? new Dictionary<string, string>())
            into.Add(name, NeedsEncoding(value) ? Encode(value) : value);
    }

    public static string Decode(string value)
    {
        const string prefix = "=?UTF-8?";
        if (value.Length < prefix.Length + 4 || !value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !value.EndsWith("?=", StringComparison.Ordinal))
            return value;
        var mode = char.ToUpperInvariant(value[prefix.Length]);
        if (value[prefix.Length + 1] != '?')
            return value;
        var text = value[(prefix.Length + 2)..^2];
        try
        {
            return mode switch
            {
                'B' => Encoding.UTF8.GetString(Convert.FromBase64String(text)),
                'Q' => DecodeQ(text),
                _ => value,
            };
        }
        catch (FormatException)
        {
            return value;
        }
    }

    private static bool NeedsEncoding(string value) =>
        value.Any(c => c is < ' ' or > '~') || value.StartsWith("=?", StringComparison.Ordinal);

    private static string Encode(string value) => "=?UTF-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) + "?=";

    private static string DecodeQ(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '_')
                bytes.Add((byte)' ');
            else if (text[i] == '=' && i + 2 < text.Length)
            {
                bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
                bytes.Add((byte)text[i]);
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    // RFC 7230 token characters: what a header name may hold.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}
