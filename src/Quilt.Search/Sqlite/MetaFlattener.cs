using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Quilt.Search.Sqlite;

/// <summary>One leaf of a metadata document: its JSON pointer path (array items share their array's path), type and value.</summary>
internal readonly record struct MetaLeaf(string Path, MetaFieldType Type, double? Number, string? Text);

/// <summary>Flattens package and entry metadata into typed leaves and into the words the full-text index holds.</summary>
internal static class MetaFlattener
{
    /// <summary>Leaves kept per document; a larger document is indexed by its first ones.</summary>
    public const int MaxLeaves = 1000;

    /// <summary>The longest string kept as a keyword (matched exactly, listed in facets); longer ones are text.</summary>
    public const int MaxKeywordLength = 64;

    public static List<MetaLeaf> Flatten(JsonElement? document)
    {
        var leaves = new List<MetaLeaf>();
        if (document is { } root)
            Walk(root, "", leaves);
        return leaves;
    }

    /// <summary>The words of the leaves (each field's name, then its value), for the full-text column.</summary>
    public static string Words(IEnumerable<MetaLeaf> leaves, int maxChars)
    {
        var text = new StringBuilder();
        foreach (var leaf in leaves)
        {
            if (text.Length >= maxChars)
                break;
            var name = leaf.Path[(leaf.Path.LastIndexOf('/') + 1)..];
            text.Append(name).Append(' ').Append(leaf.Text ?? leaf.Number?.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return text.Length > maxChars ? text.ToString(0, maxChars) : text.ToString();
    }

    private static void Walk(JsonElement element, string path, List<MetaLeaf> leaves)
    {
        if (leaves.Count >= MaxLeaves)
            return;
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                    Walk(property.Value, path + "/" + property.Name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal), leaves);
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    Walk(item, path, leaves);
                break;
            case JsonValueKind.Number when path.Length > 0 && element.TryGetDouble(out var number) && double.IsFinite(number):
                leaves.Add(new MetaLeaf(path, MetaFieldType.Number, number, element.GetRawText()));
                break;
            case JsonValueKind.True or JsonValueKind.False when path.Length > 0:
                var value = element.ValueKind == JsonValueKind.True;
                leaves.Add(new MetaLeaf(path, MetaFieldType.Boolean, value ? 1 : 0, value ? "true" : "false"));
                break;
            case JsonValueKind.String when path.Length > 0:
                var text = element.GetString()!;
                if (TryParseDate(text, out var date))
                    leaves.Add(new MetaLeaf(path, MetaFieldType.Datetime, date.ToUnixTimeMilliseconds(), text));
                else
                    leaves.Add(new MetaLeaf(path, text.Length <= MaxKeywordLength && !text.Contains('\n', StringComparison.Ordinal) ? MetaFieldType.Keyword : MetaFieldType.Text, null, text));
                break;
        }
    }

    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss",
    ];

    /// <summary>An ISO 8601 date or date-time (no offset: UTC), as the datetime type of a field.</summary>
    public static bool TryParseDate(string text, out DateTimeOffset date) =>
        DateTimeOffset.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out date);
}

/// <summary>The dates metadata fields are typed as datetime by: ISO 8601 dates and date-times (no offset: UTC).</summary>
public static class MetaDates
{
    public static bool TryParse(string text, out DateTimeOffset date) => MetaFlattener.TryParseDate(text, out date);
}
