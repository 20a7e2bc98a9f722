using System.Globalization;
using System.Text;
using System.Text.Json;
using Quilt.Search;

namespace Quilt.Gateway.Search;

/// <summary>
/// How the gateway's PostgreSQL index cuts text into words, the same way on both sides (documents and queries): lower
/// case, accents removed, and every character that is not a letter or digit a separator (as SQLite FTS5's unicode61
/// tokenizer does). PostgreSQL then only sees words of letters and digits, so its parser's special tokens (file
/// paths, URLs, e-mail addresses) never apply and <c>file</c> finds <c>data/file.csv</c>.
/// </summary>
internal static class IndexText
{
    /// <summary>The most text indexed per field: PostgreSQL keeps word positions only up to 16,383.</summary>
    public const int MaxChars = 256 * 1024;

    // Accents folded by table: the gateway runs with invariant globalization, where string.Normalize cannot
    // decompose. Latin-1 Supplement (U+00C0-U+00FF) and Latin Extended-A (U+0100-U+017F); '_' keeps the letter.
    private const string Latin1 = "aaaaaa_ceeeeiiiidnooooo_ouuuuy__aaaaaa_ceeeeiiiidnooooo_ouuuuy_y";
    private const string LatinExtendedA =
        "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii__jjkkkllllllllllnnnnnnnnnoooooo__rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

    /// <summary>The words of <paramref name="text"/>.</summary>
    public static List<string> Words(string? text)
    {
        var words = new List<string>();
        if (string.IsNullOrEmpty(text))
            return words;
        var word = new StringBuilder();
        foreach (var c in text.Length > MaxChars ? text[..MaxChars] : text)
        {
            // Combining marks (decomposed accents) are dropped.
            if (c is >= '\u0300' and <= '\u036F')
                continue;
            if (char.IsLetterOrDigit(c))
            {
                word.Append(Fold(char.ToLowerInvariant(c)));
                continue;
            }
            if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }
        if (word.Length > 0)
            words.Add(word.ToString());
        return words;
    }

    private static char Fold(char c)
    {
        var folded = c switch
        {
            >= '\u00C0' and <= '\u00FF' => Latin1[c - '\u00C0'],
            >= '\u0100' and <= '\u017F' => LatinExtendedA[c - '\u0100'],
            _ => '_',
        };
        return folded == '_' ? c : folded;
    }

    /// <summary>The words joined by spaces: what is given to <c>to_tsvector('simple', …)</c>.</summary>
    public static string Normalized(string? text) => string.Join(' ', Words(text));

    /// <summary>A tsquery literal for one word (quoted; words hold only letters and digits).</summary>
    public static string Lexeme(string word, bool prefix) => "'" + word.Replace("'", "''", StringComparison.Ordinal) + "'" + (prefix ? ":*" : "");

    /// <summary>The extension of a key, lower case with the dot (<c>.csv</c>; <c>.gz</c> for <c>a.csv.gz</c>), or "".</summary>
    public static string Extension(string key)
    {
        var name = key[(key.LastIndexOf('/') + 1)..];
        var dot = name.LastIndexOf('.');
        return dot <= 0 ? "" : name[dot..].ToLowerInvariant();
    }

    /// <summary>One leaf of package metadata, typed as the index stores it.</summary>
    public sealed record MetaLeaf(string Path, MetaFieldType Type, double? Number, DateTimeOffset? Date, string? Keyword, bool? Boolean, string Text);

    /// <summary>The longest string kept as a keyword (exact match, facet values); longer ones are text only.</summary>
    public const int MaxKeywordLength = 256;

    /// <summary>
    /// Every leaf of <paramref name="meta"/>, at its JSON pointer (array elements at the array's pointer): numbers,
    /// booleans, strings that are ISO 8601 dates (datetime), other short strings (keyword) and long ones (text).
    /// </summary>
    public static List<MetaLeaf> Flatten(JsonElement? meta)
    {
        var leaves = new List<MetaLeaf>();
        if (meta is { } root)
            Walk(root, "", leaves, 0);
        return leaves;
    }

    private static void Walk(JsonElement element, string path, List<MetaLeaf> into, int depth)
    {
        if (depth > 32 || into.Count >= 10_000)
            return;
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                    Walk(property.Value, path + "/" + property.Name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal), into, depth + 1);
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    Walk(item, path, into, depth + 1);
                break;
            case JsonValueKind.Number when path.Length > 0:
                into.Add(new MetaLeaf(path, MetaFieldType.Number, element.GetDouble(), null, null, null, element.GetRawText()));
                break;
            case JsonValueKind.True or JsonValueKind.False when path.Length > 0:
                var value = element.ValueKind == JsonValueKind.True;
                into.Add(new MetaLeaf(path, MetaFieldType.Boolean, null, null, null, value, value ? "true" : "false"));
                break;
            case JsonValueKind.String when path.Length > 0:
                var text = element.GetString() ?? "";
                if (IsDate(text, out var date))
                    into.Add(new MetaLeaf(path, MetaFieldType.Datetime, null, date, text, null, text));
                else
                    into.Add(new MetaLeaf(path, text.Length <= MaxKeywordLength ? MetaFieldType.Keyword : MetaFieldType.Text, null, null,
                        text.Length <= MaxKeywordLength ? text : null, null, text));
                break;
        }
    }

    private static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss"];

    /// <summary>Whether a string is an ISO 8601 date or date-time (no offset: UTC).</summary>
    public static bool IsDate(string text, out DateTimeOffset date) =>
        DateTimeOffset.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out date);

    /// <summary>A search-string field name under <c>meta.</c> (<c>meta.run.id</c>) as a JSON pointer (<c>/run/id</c>).</summary>
    public static string PointerOfField(string field) =>
        "/" + string.Join('/', field["meta.".Length..].Split('.').Select(p => p.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));
}
