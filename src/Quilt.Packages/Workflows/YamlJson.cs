using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Quilt.Packages.Workflows;

/// <summary>
/// Reads one YAML document into JSON nodes as PyYAML's <c>yaml.safe_load</c> (YAML 1.1) types it: plain <c>yes</c>/<c>on</c>
/// are booleans, <c>~</c> and empty are null, <c>0x1F</c>/<c>017</c> (octal)/<c>1_000</c>/<c>1:30</c> integers, only numbers with a
/// dot (<c>1.5</c>, not <c>1e3</c>) floats, a repeated key keeps its last value, <c>&lt;&lt;</c> merges, aliases copy their
/// anchor. Timestamps stay strings (no JSON type for them). Built from the parser's events: no reflection, so Native AOT
/// and trimming keep working.
/// </summary>
internal static partial class YamlJson
{
    /// <summary>The document's value (null for an empty stream). Throws <see cref="YamlException"/> for text that is not YAML,
    /// several documents (as safe_load does) or tags safe_load does not know.</summary>
    public static JsonNode? Parse(string text)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        parser.Consume<StreamStart>();
        if (parser.TryConsume<StreamEnd>(out _))
            return null;
        parser.Consume<DocumentStart>();
        var root = ReadNode(parser, anchors);
        parser.Consume<DocumentEnd>();
        if (!parser.TryConsume<StreamEnd>(out _))
            throw new YamlException("expected a single document in the stream, but found another document");
        return root;
    }

    private static JsonNode? ReadNode(IParser parser, Dictionary<string, JsonNode?> anchors)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (!anchors.TryGetValue(alias.Value.Value, out var target))
                throw new YamlException(alias.Start, alias.End, $"found undefined alias '{alias.Value.Value}'");
            return target?.DeepClone();
        }
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            var value = Resolve(scalar);
            Remember(anchors, scalar.Anchor, value);
            return value;
        }
        if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            CheckTag(sequenceStart.Tag, "tag:yaml.org,2002:seq", sequenceStart);
            var array = new JsonArray();
            while (!parser.TryConsume<SequenceEnd>(out _))
                array.Add(ReadNode(parser, anchors));
            Remember(anchors, sequenceStart.Anchor, array);
            return array;
        }
        if (parser.TryConsume<MappingStart>(out var mappingStart))
        {
            CheckTag(mappingStart.Tag, "tag:yaml.org,2002:map", mappingStart);
            var obj = new JsonObject();
            var merged = new List<JsonObject>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyStart = parser.Current;
                var key = ReadNode(parser, anchors);
                var value = ReadNode(parser, anchors);
                if (key is JsonValue mergeKey && mergeKey.GetValueKind() == JsonValueKind.String && mergeKey.GetValue<string>() == "<<"
                    && keyStart is Scalar { Style: ScalarStyle.Plain })
                {
                    switch (value)
                    {
                        case JsonObject one:
                            merged.Add(one);
                            break;
                        case JsonArray many when many.All(m => m is JsonObject):
                            merged.AddRange(many.Cast<JsonObject>());
                            break;
                        default:
                            throw new YamlException("expected a mapping or list of mappings for merging");
                    }
                    continue;
                }
                obj[KeyText(key)] = value;
            }
            // Keys of the mapping itself win over merged ones; earlier merged mappings over later ones.
            foreach (var source in merged)
            {
                foreach (var (k, v) in source)
                {
                    if (!obj.ContainsKey(k))
                        obj[k] = v?.DeepClone();
                }
            }
            Remember(anchors, mappingStart.Anchor, obj);
            return obj;
        }
        throw new YamlException(parser.Current?.Start ?? Mark.Empty, parser.Current?.End ?? Mark.Empty, "unexpected YAML event " + parser.Current?.GetType().Name);
    }

    private static void Remember(Dictionary<string, JsonNode?> anchors, AnchorName anchor, JsonNode? value)
    {
        if (!anchor.IsEmpty)
            anchors[anchor.Value] = value?.DeepClone();
    }

    private static void CheckTag(TagName tag, string expected, ParsingEvent at)
    {
        if (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value != expected)
            throw new YamlException(at.Start, at.End, $"could not determine a constructor for the tag '{tag.Value}'");
    }

    // Python keys may be numbers or booleans; JSON keys are text, so they are written as YAML spelled their value.
    private static string KeyText(JsonNode? key) => key switch
    {
        null => "None",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => PythonRepr.Of(key),
    };

    private static JsonNode? Resolve(Scalar scalar)
    {
        var text = scalar.Value;
        var tag = scalar.Tag;
        if (!tag.IsEmpty && !tag.IsNonSpecific)
        {
            return tag.Value switch
            {
                "tag:yaml.org,2002:str" => JsonValue.Create(text),
                "tag:yaml.org,2002:null" => null,
                "tag:yaml.org,2002:bool" => Bool(text) is { } b ? JsonValue.Create(b) : throw Bad(scalar, "bool"),
                "tag:yaml.org,2002:int" => Int(text) ?? throw Bad(scalar, "int"),
                "tag:yaml.org,2002:float" => Float(text) ?? Int(text) ?? throw Bad(scalar, "float"),
                "tag:yaml.org,2002:timestamp" => JsonValue.Create(text),
                _ => throw new YamlException(scalar.Start, scalar.End, $"could not determine a constructor for the tag '{tag.Value}'"),
            };
        }
        // Quoted, literal and folded scalars (and a plain one given the '!' tag) are strings.
        if (scalar.Style != ScalarStyle.Plain || tag.IsNonSpecific)
            return JsonValue.Create(text);
        if (text is "" or "~" or "null" or "Null" or "NULL")
            return null;
        if (Bool(text) is { } flag)
            return JsonValue.Create(flag);
        return Int(text) ?? Float(text) ?? JsonValue.Create(text);
    }

    private static YamlException Bad(Scalar scalar, string type) =>
        new(scalar.Start, scalar.End, $"'{scalar.Value}' is not a valid {type}");

    private static bool? Bool(string text) => text switch
    {
        "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON" => true,
        "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF" => false,
        _ => null,
    };

    private static JsonNode? Int(string text)
    {
        if (!IntPattern().IsMatch(text))
            return null;
        var s = text.Replace("_", "", StringComparison.Ordinal);
        var negative = s.StartsWith('-');
        if (s[0] is '-' or '+')
            s = s[1..];
        BigInteger value;
        if (s.StartsWith("0b", StringComparison.Ordinal))
            value = Digits(s[2..], 2);
        else if (s.StartsWith("0x", StringComparison.Ordinal))
            value = Digits(s[2..], 16);
        else if (s.Length > 1 && s[0] == '0')
            value = Digits(s[1..], 8);
        else if (s.Contains(':', StringComparison.Ordinal))
        {
            value = BigInteger.Zero;
            foreach (var part in s.Split(':'))
                value = value * 60 + BigInteger.Parse(part, CultureInfo.InvariantCulture);
        }
        else
            value = BigInteger.Parse(s, CultureInfo.InvariantCulture);
        if (negative)
            value = -value;
        // A JSON number keeps any size as its text, as Python's int does.
        return JsonValue.Create(JsonElement.Parse(value.ToString(CultureInfo.InvariantCulture)));
    }

    private static BigInteger Digits(string digits, int radix)
    {
        var value = BigInteger.Zero;
        foreach (var c in digits)
            value = value * radix + Convert.ToInt32(c.ToString(), 16);
        return value;
    }

    private static JsonNode? Float(string text)
    {
        if (!FloatPattern().IsMatch(text))
            return null;
        var s = text.Replace("_", "", StringComparison.Ordinal);
        if (s.EndsWith("inf", StringComparison.OrdinalIgnoreCase) || s.EndsWith("nan", StringComparison.OrdinalIgnoreCase))
            return JsonValue.Create(s.TrimStart('+').ToLowerInvariant()); // no JSON number for them: kept as their text
        double value;
        if (s.Contains(':', StringComparison.Ordinal))
        {
            var sign = s.StartsWith('-') ? -1 : 1;
            value = 0;
            foreach (var part in s.TrimStart('-', '+').Split(':'))
                value = value * 60 + double.Parse(part, CultureInfo.InvariantCulture);
            value *= sign;
        }
        else
            value = double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        var json = value.ToString("R", CultureInfo.InvariantCulture);
        if (json.AsSpan().IndexOfAny('.', 'E', 'e') < 0)
            json += ".0";
        return JsonValue.Create(JsonElement.Parse(json));
    }

    // PyYAML's implicit resolvers for int and float (YAML 1.1).
    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$", RegexOptions.CultureInvariant)]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();
}
