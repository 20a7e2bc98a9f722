using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quilt.Core.Json;

/// <summary>
/// Numbers a JSON text may hold that Python's json module (so quilt3, and the catalog's Python services) cannot read back as
/// written: an integer of more than 4,300 digits (Python's int max str digits: json.loads raises "Exceeds the limit (4300
/// digits) for integer string conversion") and a float beyond the double range (read as inf, written back as Infinity, which
/// is not JSON). Readers here stay lenient; writers refuse them (see <see cref="Find"/>).
/// </summary>
public static class PythonNumberLimits
{
    /// <summary>The most digits Python converts between an int and its text by default (sys.get_int_max_str_digits()).</summary>
    public const int MaxIntegerDigits = 4300;

    /// <summary>
    /// The first number in <paramref name="node"/> Python would not read back, as its JSON path (from <c>$</c>) and what is
    /// wrong with it; null when every number reads back.
    /// </summary>
    public static (string Path, string Problem)? Find(JsonNode? node)
    {
        var path = new StringBuilder("$");
        return Find(node, path);
    }

    private static (string Path, string Problem)? Find(JsonNode? node, StringBuilder path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    var length = path.Length;
                    AppendMember(path, key);
                    if (Find(value, path) is { } found)
                        return found;
                    path.Length = length;
                }
                return null;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var length = path.Length;
                    path.Append('[').Append(i.ToString(CultureInfo.InvariantCulture)).Append(']');
                    if (Find(array[i], path) is { } found)
                        return found;
                    path.Length = length;
                }
                return null;
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                return Problem(value) is { } problem ? (path.ToString(), problem) : null;
            default:
                return null;
        }
    }

    private static string? Problem(JsonValue value)
    {
        // Numbers parsed from text keep it (PythonJson.ReadNode); one made in code is a .NET number, which reads back.
        if (!value.TryGetValue<JsonElement>(out var element))
            return null;
        var raw = element.GetRawText();
        if (raw.AsSpan().IndexOfAny('.', 'e', 'E') >= 0)
        {
            return double.IsFinite(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture)) ? null
                : "a float beyond the range of a double (Python reads it as infinity and writes it back as Infinity, which is not JSON)";
        }
        var digits = raw.StartsWith('-') ? raw.Length - 1 : raw.Length;
        return digits > MaxIntegerDigits
            ? $"an integer of {digits:N0} digits, more than the {MaxIntegerDigits:N0} Python reads (quilt3 could not read the package)"
            : null;
    }

    private static void AppendMember(StringBuilder path, string key)
    {
        if (key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_') && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            path.Append('.').Append(key);
            return;
        }
        path.Append('[');
        PythonJson.WriteString(path, key, ensureAscii: true);
        path.Append(']');
    }
}
