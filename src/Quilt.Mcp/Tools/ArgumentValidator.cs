using System.Globalization;
using System.Text.Json;

namespace Quilt.Mcp.Tools;

/// <summary>
/// Checks tool arguments against the tool's own input schema before the call, so a missing, misspelt or mistyped
/// argument is a tool error that names it (the SDK would otherwise answer with a generic message).
/// Covers what the tools' schemas use: type, required, properties, items, additionalProperties, enum.
/// </summary>
internal static class ArgumentValidator
{
    public static string? Validate(JsonElement inputSchema, IDictionary<string, JsonElement>? arguments)
    {
        if (inputSchema.ValueKind != JsonValueKind.Object)
            return null;
        var args = arguments ?? new Dictionary<string, JsonElement>();
        return CheckProperties(inputSchema, args.Select(kv => (kv.Key, kv.Value)), "", topLevel: true);
    }

    private static string? CheckProperties(JsonElement schema, IEnumerable<(string Name, JsonElement Value)> members, string path, bool topLevel)
    {
        var present = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value) in members)
            present[name] = value;
        var hasProperties = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;
        var what = topLevel ? "argument" : "field";
        var requiredNames = new HashSet<string>(StringComparer.Ordinal);

        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in required.EnumerateArray())
            {
                var name = item.GetString();
                if (name is null)
                    continue;
                requiredNames.Add(name);
                if (!present.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
                {
                    var description = hasProperties && properties.TryGetProperty(name, out var p) ? DescriptionOf(p) : "";
                    return $"Missing required {what} '{Join(path, name)}'.{description}";
                }
            }
        }

        if (hasProperties)
        {
            foreach (var (name, value) in present)
            {
                if (!properties.TryGetProperty(name, out var propertySchema))
                {
                    var valid = string.Join(", ", properties.EnumerateObject().Select(p => p.Name));
                    return $"Unknown {what} '{Join(path, name)}'. Valid {what}s{(path.Length > 0 ? $" of '{path}'" : "")}: {valid}.";
                }
                // null for an optional property with no default is the same as leaving it out (its schema is typed
                // without "null" to keep tools/list short: CompactToolListing).
                if (value.ValueKind == JsonValueKind.Null && !requiredNames.Contains(name) && !propertySchema.TryGetProperty("default", out _))
                    continue;
                if (Check(propertySchema, value, Join(path, name)) is { } error)
                    return error;
            }
        }
        else if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.Object)
        {
            foreach (var (name, value) in present)
            {
                if (Check(additional, value, $"{path}[\"{name}\"]") is { } error)
                    return error;
            }
        }
        return null;
    }

    private static string? Check(JsonElement schema, JsonElement value, string path)
    {
        if (schema.ValueKind != JsonValueKind.Object || schema.TryGetProperty("$ref", out _))
            return null;
        var types = Types(schema);
        if (types.Count > 0 && !types.Any(t => Matches(t, value)))
        {
            var expected = string.Join(" or ", types.Where(t => t != "null").Select(Article));
            return $"Argument '{path}' must be {expected}; got {Describe(value)}.";
        }
        if (value.ValueKind == JsonValueKind.String && schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array)
        {
            var allowed = values.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList();
            if (allowed.Count > 0 && !allowed.Contains(value.GetString()!, StringComparer.OrdinalIgnoreCase))
                return $"Argument '{path}' is '{value.GetString()}'; valid values are: {string.Join(", ", allowed)}.";
        }
        if (value.ValueKind == JsonValueKind.Object)
            return CheckProperties(schema, value.EnumerateObject().Select(p => (p.Name, p.Value)), path, topLevel: false);
        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                if (Check(items, item, $"{path}[{i}]") is { } error)
                    return error;
                i++;
            }
        }
        return null;
    }

    private static List<string> Types(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
            return [];
        return type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList(),
            _ => [],
        };
    }

    // Numbers may arrive as strings: the SDK's serializer reads them (AllowReadingFromString), so accept them too.
    private static bool Matches(string type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _))
            || (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)),
        "number" => value.ValueKind == JsonValueKind.Number
            || (value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string Article(string type) => type switch
    {
        "integer" => "an integer",
        "object" => "an object",
        "array" => "an array",
        _ => "a " + type,
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(value.GetString()!)}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "nothing",
    };

    private static string DescriptionOf(JsonElement propertySchema) =>
        propertySchema.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? " It is: " + d.GetString() : "";

    private static string Truncate(string s) => s.Length > 60 ? s[..60] + "…" : s;

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
