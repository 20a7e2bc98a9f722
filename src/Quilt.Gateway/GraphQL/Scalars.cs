using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using GraphQL.Types;
using GraphQLParser.AST;

namespace Quilt.Gateway.GraphQL;

/// <summary>Quilt's Datetime: an ISO 8601 string with offset.</summary>
public sealed class DatetimeGraphType : ScalarGraphType
{
    public DatetimeGraphType() => Name = "Datetime";

    public override object? Serialize(object? value) => value switch
    {
        null => null,
        DateTimeOffset d => d.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", CultureInfo.InvariantCulture),
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", CultureInfo.InvariantCulture),
        _ => ThrowSerializationError(value),
    };

    public override object? ParseValue(object? value) => value switch
    {
        null => null,
        DateTimeOffset d => d,
        string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) => d,
        _ => ThrowValueConversionError(value),
    };

    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLNullValue => null,
        GraphQLStringValue s => ParseValue((string)s.Value),
        _ => ThrowLiteralConversionError(value),
    };
}

/// <summary>
/// Quilt's JSON scalars (Json, JsonRecord, PackageContentsFlatMap): any JSON value (JsonRecord: an object). Inputs
/// become <see cref="JsonNode"/>; outputs may be JsonNode or plain values.
/// </summary>
public sealed class JsonScalarGraphType : ScalarGraphType
{
    private readonly bool _objectsOnly;

    public JsonScalarGraphType(string name, bool objectsOnly)
    {
        Name = name;
        _objectsOnly = objectsOnly;
    }

    public override object? Serialize(object? value) => value switch
    {
        null => null,
        JsonNode node => ToPlain(node),
        _ => value,
    };

    public override object? ParseValue(object? value)
    {
        var node = FromPlain(value);
        if (_objectsOnly && node is not (null or JsonObject))
            return ThrowValueConversionError(value);
        return node;
    }

    public override object? ParseLiteral(GraphQLValue value)
    {
        var node = FromLiteral(value);
        if (_objectsOnly && node is not (null or JsonObject))
            return ThrowLiteralConversionError(value);
        return node;
    }

    public override bool CanParseValue(object? value)
    {
        try
        {
            var node = FromPlain(value);
            return !_objectsOnly || node is null or JsonObject;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static JsonNode? FromLiteral(GraphQLValue value) => value switch
    {
        GraphQLNullValue => null,
        GraphQLStringValue s => JsonValue.Create((string)s.Value),
        GraphQLBooleanValue b => JsonValue.Create(b.BoolValue),
        GraphQLIntValue i => JsonValue.Create(long.Parse((string)i.Value, CultureInfo.InvariantCulture)),
        GraphQLFloatValue f => JsonValue.Create(double.Parse((string)f.Value, CultureInfo.InvariantCulture)),
        GraphQLEnumValue e => JsonValue.Create((string)e.Name.Value),
        GraphQLListValue l => new JsonArray((l.Values ?? []).Select(FromLiteral).ToArray()),
        GraphQLObjectValue o => new JsonObject((o.Fields ?? []).Select(f => KeyValuePair.Create((string)f.Name.Value, FromLiteral(f.Value)))),
        _ => throw new ArgumentException($"Unsupported JSON literal {value.Kind}."),
    };

    /// <summary>Variables arrive as dictionaries, lists and primitives (GraphQL.SystemTextJson's reading).</summary>
    internal static JsonNode? FromPlain(object? value) => value switch
    {
        null => null,
        JsonNode n => n.DeepClone(),
        JsonElement e => JsonNode.Parse(e.GetRawText()),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        decimal m => JsonValue.Create(m),
        BigInteger big => JsonValue.Create((decimal)big),
        IDictionary<string, object?> dict => new JsonObject(dict.Select(kv => KeyValuePair.Create(kv.Key, FromPlain(kv.Value)))),
        IEnumerable<object?> list => new JsonArray(list.Select(FromPlain).ToArray()),
        _ => throw new ArgumentException($"Unsupported JSON value of type {value.GetType().Name}."),
    };

    internal static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(kv => kv.Key, kv => ToPlain(kv.Value)),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => Number(v),
            _ => null,
        },
        _ => null,
    };

    // A JsonValue may hold any numeric CLR type (int, long, decimal, a JsonElement): read it back from its JSON text.
    private static object Number(JsonValue value)
    {
        using var doc = JsonDocument.Parse(value.ToJsonString());
        return doc.RootElement.TryGetInt64(out var l) ? l : doc.RootElement.GetDouble();
    }
}
