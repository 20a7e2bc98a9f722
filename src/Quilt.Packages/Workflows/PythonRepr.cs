using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core.Json;

namespace Quilt.Packages.Workflows;

/// <summary>
/// Python's repr() of a JSON value as json.loads (or yaml.safe_load) gives it back: the form quilt3's messages quote
/// values in, e.g. <c>'abc'</c>, <c>1.5</c>, <c>True</c>, <c>None</c>, <c>{'a': [1, 2]}</c>.
/// </summary>
internal static class PythonRepr
{
    public static string Of(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    public static string String(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        WriteString(sb, value);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("None");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first)
                        sb.Append(", ");
                    first = false;
                    WriteString(sb, key);
                    sb.Append(": ");
                    Write(sb, value);
                }
                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                        sb.Append(", ");
                    Write(sb, array[i]);
                }
                sb.Append(']');
                break;
            default:
                var element = node.AsValue();
                switch (element.GetValueKind())
                {
                    case JsonValueKind.String:
                        WriteString(sb, element.GetValue<string>());
                        break;
                    case JsonValueKind.True:
                        sb.Append("True");
                        break;
                    case JsonValueKind.False:
                        sb.Append("False");
                        break;
                    case JsonValueKind.Number:
                        var raw = element.ToJsonString();
                        if (raw.AsSpan().IndexOfAny('.', 'e', 'E') >= 0)
                            sb.Append(PythonJson.FormatFloat(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture)));
                        else
                            sb.Append(raw == "-0" ? "0" : raw);
                        break;
                    default:
                        sb.Append(element.ToJsonString());
                        break;
                }
                break;
        }
    }

    // Python picks single quotes unless the text has one and no double quote; it escapes the quote, backslash, \t \n \r,
    // and writes other unprintable characters as \xNN, \uNNNN.
    private static void WriteString(StringBuilder sb, string value)
    {
        var quote = value.Contains('\'', StringComparison.Ordinal) && !value.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        sb.Append(quote);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c == quote)
                        sb.Append('\\').Append(c);
                    else if (c < 0x20 || c is >= (char)0x7F and <= (char)0xA0)
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else if (!char.IsSurrogate(c) && CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator
                        or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append(quote);
    }
}
