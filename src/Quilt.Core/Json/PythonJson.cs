using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quilt.Core.Json;

/// <summary>The two ways quilt3 serializes JSON.</summary>
public enum PythonJsonStyle
{
    /// <summary>
    /// <c>json.dumps(obj, sort_keys=True, separators=(',', ':'))</c>: what the top hash covers. Keys sorted by code point,
    /// every non-ASCII character escaped as \uXXXX.
    /// </summary>
    Canonical,

    /// <summary>
    /// <c>json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode(obj)</c>: a manifest line. Keys in insertion order,
    /// separators ", " and ": ", non-ASCII written as is.
    /// </summary>
    Manifest,
}

/// <summary>
/// Serializes System.Text.Json nodes exactly as Python's json module does, with Python's number model: a JSON number
/// written with '.', 'e' or 'E' is a float (printed by repr: shortest round-trip digits, <c>1.0</c>, <c>1e+20</c>,
/// <c>1e-07</c>), anything else an integer of any size. Parses JSON as json.loads keeps it, where System.Text.Json would
/// refuse it or fail later.
/// </summary>
public static class PythonJson
{
    /// <summary>
    /// One whole JSON text (nothing but white space after it) as <see cref="ReadNode"/> reads it.
    /// Throws <see cref="JsonException"/> for text that is not JSON.
    /// </summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read())
            throw new JsonException("The text holds no JSON value.");
        var node = ReadNode(ref reader);
        if (reader.Read())
            throw new JsonException($"More JSON follows the value at byte {reader.TokenStartIndex}.");
        return node;
    }

    /// <summary>
    /// The value at the reader's current token, read as Python's json.loads keeps it: a key repeated in an object keeps
    /// its first place and its last value (a dict's assignment), and a string may hold a lone surrogate escape such as
    /// <c>\ud800</c>. Numbers keep their text (as <see cref="JsonElement"/> values), so ints and floats stay apart. The
    /// reader is left on the value's last token.
    /// </summary>
    public static JsonNode? ReadNode(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var obj = new JsonObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var key = ReadString(ref reader);
                    reader.Read();
                    obj[key] = ReadNode(ref reader);
                }
                return obj;
            case JsonTokenType.StartArray:
                var array = new JsonArray();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    array.Add(ReadNode(ref reader));
                return array;
            case JsonTokenType.String:
                return JsonValue.Create(ReadString(ref reader));
            case JsonTokenType.Number:
                return JsonValue.Create(JsonElement.ParseValue(ref reader));
            case JsonTokenType.True:
                return JsonValue.Create(true);
            case JsonTokenType.False:
                return JsonValue.Create(false);
            case JsonTokenType.Null:
                return null;
            default:
                throw new JsonException($"Unexpected JSON token {reader.TokenType}.");
        }
    }

    /// <summary>
    /// The string (or property name) at the reader, as Python decodes it: unlike <see cref="Utf8JsonReader.GetString"/>,
    /// a lone surrogate escape stays a lone UTF-16 unit instead of throwing.
    /// </summary>
    public static string ReadString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException) when (reader.ValueIsEscaped)
        {
            // The reader has checked each escape's form: only a lone surrogate escape fails to decode.
            return Unescape(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
        }
    }

    private static string Unescape(ReadOnlySpan<byte> raw)
    {
        var sb = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            var backslash = raw.IndexOf((byte)'\\');
            var plain = backslash < 0 ? raw : raw[..backslash];
            sb.Append(Encoding.UTF8.GetString(plain));
            if (backslash < 0)
                break;
            var escape = raw[backslash + 1];
            raw = raw[(backslash + 2)..];
            switch (escape)
            {
                case (byte)'b': sb.Append('\b'); break;
                case (byte)'f': sb.Append('\f'); break;
                case (byte)'n': sb.Append('\n'); break;
                case (byte)'r': sb.Append('\r'); break;
                case (byte)'t': sb.Append('\t'); break;
                case (byte)'u':
                    sb.Append((char)int.Parse(raw[..4], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                    raw = raw[4..];
                    break;
                default: sb.Append((char)escape); break; // '"', '\\' and '/'
            }
        }
        return sb.ToString();
    }

    public static string Serialize(JsonNode? node, PythonJsonStyle style)
    {
        var sb = new StringBuilder();
        Write(sb, node, style);
        return sb.ToString();
    }

    public static void Write(StringBuilder sb, JsonNode? node, PythonJsonStyle style)
    {
        ArgumentNullException.ThrowIfNull(sb);
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                WriteObject(sb, obj, style);
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                        sb.Append(style == PythonJsonStyle.Canonical ? "," : ", ");
                    Write(sb, array[i], style);
                }
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value, style);
                break;
            default:
                throw new JsonException($"Unsupported JSON node {node.GetType().Name}.");
        }
    }

    private static void WriteObject(StringBuilder sb, JsonObject obj, PythonJsonStyle style)
    {
        sb.Append('{');
        var first = true;
        if (style == PythonJsonStyle.Canonical && obj.Count > 1)
        {
            var keys = new string[obj.Count];
            var i = 0;
            foreach (var pair in obj)
                keys[i++] = pair.Key;
            Array.Sort(keys, CodePointComparer.Instance);
            foreach (var key in keys)
            {
                if (!first)
                    sb.Append(',');
                first = false;
                WriteString(sb, key, ensureAscii: true);
                sb.Append(':');
                Write(sb, obj[key], style);
            }
        }
        else
        {
            foreach (var pair in obj)
            {
                if (!first)
                    sb.Append(style == PythonJsonStyle.Canonical ? "," : ", ");
                first = false;
                WriteString(sb, pair.Key, ensureAscii: style == PythonJsonStyle.Canonical);
                sb.Append(style == PythonJsonStyle.Canonical ? ":" : ": ");
                Write(sb, pair.Value, style);
            }
        }
        sb.Append('}');
    }

    private static void WriteValue(StringBuilder sb, JsonValue value, PythonJsonStyle style)
    {
        if (value.TryGetValue<JsonElement>(out var element))
        {
            WriteElement(sb, element, style);
            return;
        }
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>(), style == PythonJsonStyle.Canonical);
                return;
            case JsonValueKind.True:
                sb.Append("true");
                return;
            case JsonValueKind.False:
                sb.Append("false");
                return;
            case JsonValueKind.Null:
                sb.Append("null");
                return;
            case JsonValueKind.Number:
                if (value.TryGetValue<double>(out var d))
                    WriteFloat(sb, d, style);
                else if (value.TryGetValue<float>(out var f))
                    WriteFloat(sb, f, style);
                else if (value.TryGetValue<decimal>(out var m))
                    WriteFloat(sb, (double)m, style);
                else
                    WriteInteger(sb, value.ToJsonString());
                return;
            default:
                throw new JsonException($"Unsupported JSON value kind {value.GetValueKind()}.");
        }
    }

    private static void WriteElement(StringBuilder sb, JsonElement element, PythonJsonStyle style)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                WriteString(sb, ElementString(element), style == PythonJsonStyle.Canonical);
                break;
            case JsonValueKind.Number:
                WriteNumberText(sb, element.GetRawText(), style);
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            case JsonValueKind.Object:
            case JsonValueKind.Array:
                Write(sb, element.ValueKind == JsonValueKind.Object ? JsonObject.Create(element) : JsonArray.Create(element), style);
                break;
            default:
                throw new JsonException($"Unsupported JSON value kind {element.ValueKind}.");
        }
    }

    private static string ElementString(JsonElement element)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape (JsonElement cannot decode it): read it as Python does.
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(element.GetRawText()));
            reader.Read();
            return ReadString(ref reader);
        }
    }

    /// <summary>Writes a JSON number literal as Python would after json.loads: int stays int, float goes through repr.</summary>
    public static void WriteNumberText(StringBuilder sb, string raw, PythonJsonStyle style)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(raw);
        if (raw.AsSpan().IndexOfAny('.', 'e', 'E') >= 0)
            WriteFloat(sb, double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture), style);
        else
            WriteInteger(sb, raw);
    }

    private static void WriteInteger(StringBuilder sb, string raw)
    {
        // Python's int("-0") is 0; JSON forbids leading zeros, so nothing else needs normalizing.
        sb.Append(raw == "-0" ? "0" : raw);
    }

    private static void WriteFloat(StringBuilder sb, double d, PythonJsonStyle style)
    {
        if (double.IsFinite(d))
        {
            sb.Append(FormatFloat(d));
            return;
        }
        if (style == PythonJsonStyle.Manifest)
            throw new JsonException("Out of range float values are not JSON compliant (NaN or Infinity in metadata).");
        sb.Append(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    }

    /// <summary>Python's repr(float): shortest round-trip digits; fixed notation when -4 &lt; exponent &lt;= 16.</summary>
    public static string FormatFloat(double d)
    {
        if (!double.IsFinite(d))
            throw new ArgumentOutOfRangeException(nameof(d), "Only finite floats have a repr here.");
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = r.StartsWith('-');
        var s = negative ? r[1..] : r;
        var exponent = 0;
        var e = s.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(s.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..e];
        }
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot < 0 ? s : s[..dot];
        var fracPart = dot < 0 ? "" : s[(dot + 1)..];
        var digits = (intPart + fracPart).TrimStart('0');
        // decpt: where the decimal point sits relative to the first significant digit (value = 0.DIGITS × 10^decpt).
        var leadingZeros = (intPart + fracPart).Length - digits.Length;
        var decpt = intPart.Length + exponent - leadingZeros;
        digits = digits.TrimEnd('0');
        var sign = negative ? "-" : "";
        if (digits.Length == 0)
            return sign + "0.0";

        if (decpt > -4 && decpt <= 16)
        {
            if (decpt <= 0)
                return sign + "0." + new string('0', -decpt) + digits;
            if (decpt >= digits.Length)
                return sign + digits + new string('0', decpt - digits.Length) + ".0";
            return sign + digits[..decpt] + "." + digits[decpt..];
        }

        var exp = decpt - 1;
        var mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    // What Python writes as is: with ensure_ascii, printable ASCII but '"' and '\\'; without, anything but those two,
    // controls and surrogates (a valid pair is copied whole, checked below).
    private static readonly SearchValues<char> AsciiPlain = SearchValues.Create(
        string.Concat(Enumerable.Range(0x20, 0x7F - 0x20).Select(c => (char)c).Where(c => c is not '"' and not '\\')));

    private static readonly SearchValues<char> NeverPlain = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0x20).Select(c => (char)c)) + "\"\\");

    /// <summary>
    /// A JSON string as Python writes it. With <paramref name="ensureAscii"/>, every UTF-16 unit outside space..'~' is
    /// \uXXXX (lowercase hex; astral characters become surrogate pairs); without, only '"', '\\' and controls are escaped.
    /// Runs of plain characters are found by a vectorized search and copied whole.
    /// </summary>
    public static void WriteString(StringBuilder sb, string value, bool ensureAscii)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(value);
        sb.Append('"');
        var rest = value.AsSpan();
        while (true)
        {
            var i = ensureAscii ? rest.IndexOfAnyExcept(AsciiPlain) : IndexOfNotPlainUnicode(rest);
            if (i < 0)
            {
                sb.Append(rest);
                break;
            }
            sb.Append(rest[..i]);
            var c = rest[i];
            if (!ensureAscii && char.IsHighSurrogate(c) && i + 1 < rest.Length && char.IsLowSurrogate(rest[i + 1]))
            {
                sb.Append(rest.Slice(i, 2));
                rest = rest[(i + 2)..];
                continue;
            }
            // A lone surrogate (read from a \ud800 escape) has no UTF-8 form: Python would fail to write it; it is written
            // as the same escape, which reads back as the same string (and top hash).
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
            rest = rest[(i + 1)..];
        }
        sb.Append('"');
    }

    private static int IndexOfNotPlainUnicode(ReadOnlySpan<char> text)
    {
        var special = text.IndexOfAny(NeverPlain);
        var surrogate = (special < 0 ? text : text[..special]).IndexOfAnyInRange('\uD800', '\uDFFF');
        return surrogate >= 0 ? surrogate : special;
    }
}
