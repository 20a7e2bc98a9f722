using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Quilt.Packages.Workflows;

/// <summary>
/// A draft-7 JSON Schema, validated with JsonSchema.Net, whose failures are told as Python's jsonschema tells them
/// (<c>e.message</c> of the error <c>best_match</c> picks): the library decides validity; the message is made here from its
/// structured results (keyword, schema and instance locations), for the keywords quilt3's users meet:
/// <list type="bullet">
/// <item>required: <c>'project' is a required property</c> (the first missing one, in the schema's order)</item>
/// <item>type: <c>1 is not of type 'string'</c> (several types: <c>'string', 'null'</c>)</item>
/// <item>enum / const: <c>'x' is not one of ['a', 'b']</c> / <c>3 was expected</c></item>
/// <item>pattern: <c>'b' does not match '^a'</c></item>
/// <item>minimum, maximum, exclusive*: <c>1 is less than the minimum of 3</c>, <c>… greater than or equal to the maximum of …</c></item>
/// <item>minLength/maxLength/minItems/maxItems/minProperties/maxProperties: <c>'' should be non-empty</c>, <c>… is too short</c>, <c>… is too long</c>, …</item>
/// <item>additionalProperties: <c>Additional properties are not allowed ('x' was unexpected)</c>; additionalItems likewise</item>
/// <item>multipleOf, uniqueItems, dependencies, contains, not, anyOf/oneOf, the false schema: jsonschema's wording</item>
/// </list>
/// Of several failures the one nearest the instance's root wins (the first in the schema's order on a tie), and an
/// anyOf/oneOf failure is told by its deepest branch failure unless two tie, as best_match does. Values are quoted as
/// Python's repr. Other keywords fall back to the library's own message. <c>format</c> is not checked (jsonschema checks
/// it only with a format checker, which quilt3 does not pass).
/// </summary>
internal sealed class SchemaCheck
{
    private readonly JsonSchema _schema;
    private readonly JsonNode? _schemaJson;

    private SchemaCheck(JsonSchema schema, JsonNode? schemaJson)
    {
        _schema = schema;
        _schemaJson = schemaJson;
    }

    /// <summary>Builds the schema (draft 7). Throws <see cref="JsonSchemaException"/> when its keywords are malformed.</summary>
    public static SchemaCheck Create(JsonNode? schemaJson)
    {
        using var document = JsonDocument.Parse(schemaJson?.ToJsonString() ?? "null");
        // Its own registry: schemas loaded for different registries may share an $id; nothing is ever fetched.
        var options = new Json.Schema.BuildOptions { Dialect = Dialect.Draft07, SchemaRegistry = new SchemaRegistry() };
        return new SchemaCheck(JsonSchema.Build(document.RootElement.Clone(), options), schemaJson?.DeepClone());
    }

    /// <summary>Whether <paramref name="schemaJson"/> is a valid draft-7 schema; the library's reason when it is not.</summary>
    public static string? MetaSchemaError(JsonNode? schemaJson)
    {
        using var document = JsonDocument.Parse(schemaJson?.ToJsonString() ?? "null");
        var results = MetaSchemas.Draft7.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
            return null;
        foreach (var node in Flatten(results))
        {
            if (node.Errors is { Count: > 0 } errors)
            {
                var (keyword, message) = errors.First();
                var at = node.InstanceLocation.ToString();
                return (at.Length == 0 ? "" : $"at {at}: ") + $"{message} ({keyword})";
            }
        }
        return "it is not a draft-07 JSON Schema";
    }

    /// <summary>Null when <paramref name="instance"/> is valid; otherwise the message Python's jsonschema would give.</summary>
    public string? Validate(JsonNode? instance)
    {
        using var document = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var results = _schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical });
        if (results.IsValid)
            return null;
        var errors = new List<Failure>();
        Collect(results, instance, errors);
        Merge(errors);
        var best = BestMatch(errors);
        return best?.Message ?? "the instance is not valid under the schema";
    }

    private static IEnumerable<EvaluationResults> Flatten(EvaluationResults node)
    {
        yield return node;
        if (node.Details is { } details)
        {
            foreach (var child in details)
            {
                foreach (var n in Flatten(child))
                    yield return n;
            }
        }
    }

    /// <summary>One failure as jsonschema would raise it: where in the instance, which keyword, and its message.</summary>
    private sealed record Failure(IReadOnlyList<string> Path, string Keyword, IReadOnlyList<int> Order, string Message)
    {
        public List<Failure> Context { get; } = [];

        public bool IsWeak => Keyword is "anyOf" or "oneOf";
    }

    private static Failure? BestMatch(List<Failure> errors)
    {
        if (errors.Count == 0)
            return null;
        // Nearest the root first; anyOf/oneOf after others at the same depth; then the schema's own order.
        var best = errors.OrderBy(e => e.Path.Count).ThenBy(e => e.IsWeak).ThenBy(e => e.Order, OrderComparer.Instance).First();
        while (best.Context.Count > 0)
        {
            var deepest = best.Context.OrderByDescending(e => e.Path.Count).ThenByDescending(e => e.IsWeak).ThenBy(e => e.Order, OrderComparer.Instance).Take(2).ToList();
            if (deepest.Count == 2 && deepest[0].Path.Count == deepest[1].Path.Count && deepest[0].IsWeak == deepest[1].IsWeak)
                return best;
            best = deepest[0];
        }
        return best;
    }

    private void Collect(EvaluationResults node, JsonNode? instanceRoot, List<Failure> into)
    {
        if (node.IsValid)
            return;
        var evalPath = Segments(node.EvaluationPath.ToString());
        var schemaPath = SchemaPathOf(node, evalPath);
        var instancePath = Segments(node.InstanceLocation.ToString());
        var schema = Resolve(_schemaJson, schemaPath);
        var instance = Resolve(instanceRoot, instancePath);
        var order = OrderOf(schemaPath);

        // A property name checked by propertyNames: the name is the instance, and the error sits at the object.
        var isPropertyName = evalPath.Count > 0 && evalPath.Contains("propertyNames");
        if (isPropertyName && instancePath.Count > 0)
        {
            instance = JsonValue.Create(instancePath[^1]);
            instancePath = instancePath.Take(instancePath.Count - 1).ToList();
        }

        if (node.Errors is { Count: > 0 } errors)
        {
            foreach (var (keyword, libraryMessage) in errors)
            {
                if (Describe(keyword, libraryMessage, schema, schemaPath, instance, instancePath, instanceRoot, order) is { } failure)
                    into.Add(failure);
            }
        }

        var children = node.Details ?? [];
        if (schema is JsonObject s)
        {
            foreach (var combinator in new[] { "anyOf", "oneOf" })
            {
                if (s[combinator] is not JsonArray branches)
                    continue;
                var prefix = node.EvaluationPath.ToString() + "/" + combinator + "/";
                var branchResults = children.Where(c => c.EvaluationPath.ToString().StartsWith(prefix, StringComparison.Ordinal)).ToList();
                var valid = branchResults.Where(c => c.IsValid).Select(c => Index(c.EvaluationPath.ToString()[prefix.Length..])).Distinct().Order().ToList();
                var failure = (combinator, valid.Count) switch
                {
                    ("anyOf", 0) or ("oneOf", 0) => new Failure(instancePath, combinator, [.. order, KeyIndex(s, combinator)],
                        $"{PythonRepr.Of(instance)} is not valid under any of the given schemas"),
                    ("oneOf", > 1) => new Failure(instancePath, combinator, [.. order, KeyIndex(s, combinator)],
                        $"{PythonRepr.Of(instance)} is valid under each of {string.Join(", ", valid.Skip(1).Append(valid[0]).Select(i => PythonRepr.Of(branches[i])))}"),
                    _ => null,
                };
                if (failure is null)
                    continue;
                foreach (var branch in branchResults)
                    Collect(branch, instanceRoot, failure.Context);
                into.Add(failure);
            }
            // contains: its per-item results are not failures of their own; jsonschema tells the array.
            if (s.ContainsKey("contains") && instance is JsonArray && !children.Any(c => c.EvaluationPath.ToString().StartsWith(node.EvaluationPath.ToString() + "/contains", StringComparison.Ordinal) && c.IsValid))
                into.Add(new Failure(instancePath, "contains", [.. order, KeyIndex(s, "contains")], $"None of {PythonRepr.Of(instance)} are valid under the given schema"));
            if (s["not"] is { } notSchema && children.Any(c => c.EvaluationPath.ToString() == node.EvaluationPath.ToString() + "/not" && c.IsValid))
                into.Add(new Failure(instancePath, "not", [.. order, KeyIndex(s, "not")], $"{PythonRepr.Of(instance)} should not be valid under {PythonRepr.Of(notSchema)}"));
        }
        var evalText = node.EvaluationPath.ToString();
        foreach (var child in children)
        {
            var childPath = child.EvaluationPath.ToString();
            if (childPath.StartsWith(evalText + "/anyOf/", StringComparison.Ordinal) || childPath.StartsWith(evalText + "/oneOf/", StringComparison.Ordinal)
                || childPath.StartsWith(evalText + "/contains", StringComparison.Ordinal))
                continue;
            Collect(child, instanceRoot, into);
        }
    }

    // additionalProperties: false fails once per extra property; jsonschema says it once, naming them all.
    private static void Merge(List<Failure> errors)
    {
        foreach (var error in errors)
            Merge(error.Context);
        var groups = errors.Where(e => e.Keyword == "additionalProperties" && e.Message.StartsWith('\0')).GroupBy(e => string.Join("/", e.Path)).ToList();
        foreach (var group in groups)
        {
            var first = group.First();
            var parts = first.Message[1..].Split('\0');
            var extras = group.Select(e => e.Message[1..].Split('\0')[1]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var message = parts[0] == ""
                ? $"Additional properties are not allowed ({string.Join(", ", extras.Select(PythonRepr.String))} {(extras.Count == 1 ? "was" : "were")} unexpected)"
                : $"{string.Join(", ", extras.Select(PythonRepr.String))} {(extras.Count == 1 ? "does" : "do")} not match any of the regexes: {parts[0]}";
            var index = errors.IndexOf(first);
            errors.RemoveAll(e => group.Contains(e));
            errors.Insert(Math.Min(index, errors.Count), first with { Message = message });
        }
    }

    private Failure? Describe(string keyword, string libraryMessage, JsonNode? schema, List<string> schemaPath, JsonNode? instance,
        List<string> instancePath, JsonNode? instanceRoot, IReadOnlyList<int> order)
    {
        var s = schema as JsonObject;
        var value = s?[keyword];
        var repr = PythonRepr.Of(instance);
        IReadOnlyList<int> at = s is null ? order : [.. order, KeyIndex(s, keyword)];
        string message;
        switch (keyword)
        {
            case "":
                // The false schema; under additionalProperties/additionalItems it is told as those keywords are.
                if (schemaPath.Count > 0 && schemaPath[^1] is "additionalProperties" or "additionalItems" && instancePath.Count > 0)
                {
                    var parentSchema = Resolve(_schemaJson, schemaPath.Take(schemaPath.Count - 1).ToList()) as JsonObject;
                    var parentPath = instancePath.Take(instancePath.Count - 1).ToList();
                    var parentOrder = OrderOf(schemaPath.Take(schemaPath.Count - 1).ToList());
                    IReadOnlyList<int> parentAt = parentSchema is null ? parentOrder : [.. parentOrder, KeyIndex(parentSchema, schemaPath[^1])];
                    if (schemaPath[^1] == "additionalProperties")
                    {
                        var patterns = parentSchema?["patternProperties"] is JsonObject pp
                            ? string.Join(", ", pp.Select(p => p.Key).Order(StringComparer.Ordinal).Select(PythonRepr.String)) : "";
                        // Merged with its siblings afterwards (see Merge): "\0patterns\0name".
                        return new Failure(parentPath, "additionalProperties", parentAt, "\0" + patterns + "\0" + instancePath[^1]);
                    }
                    var array = Resolve(instanceRoot, parentPath) as JsonArray;
                    var itemCount = parentSchema?["items"] is JsonArray items ? items.Count : 0;
                    var extras = array?.Skip(itemCount).ToList() ?? [];
                    return new Failure(parentPath, "additionalItems", parentAt,
                        $"Additional items are not allowed ({string.Join(", ", extras.Select(PythonRepr.Of))} {(extras.Count == 1 ? "was" : "were")} unexpected)");
                }
                message = $"False schema does not allow {repr}";
                break;
            case "required":
                var missing = (value as JsonArray)?.Select(n => n?.GetValue<string>()).FirstOrDefault(p => p is not null && instance is JsonObject o && !o.ContainsKey(p));
                message = missing is null ? libraryMessage : $"{PythonRepr.String(missing)} is a required property";
                break;
            case "type":
                var types = value is JsonArray list ? list.Select(PythonRepr.Of) : [PythonRepr.Of(value)];
                message = $"{repr} is not of type {string.Join(", ", types)}";
                break;
            case "enum":
                message = $"{repr} is not one of {PythonRepr.Of(value)}";
                break;
            case "const":
                message = $"{PythonRepr.Of(value)} was expected";
                break;
            case "pattern":
                message = $"{repr} does not match {PythonRepr.Of(value)}";
                break;
            case "minimum":
                message = $"{repr} is less than the minimum of {PythonRepr.Of(value)}";
                break;
            case "maximum":
                message = $"{repr} is greater than the maximum of {PythonRepr.Of(value)}";
                break;
            case "exclusiveMinimum":
                message = $"{repr} is less than or equal to the minimum of {PythonRepr.Of(value)}";
                break;
            case "exclusiveMaximum":
                message = $"{repr} is greater than or equal to the maximum of {PythonRepr.Of(value)}";
                break;
            case "minLength" or "minItems":
                message = IsNumber(value, 1) ? $"{repr} should be non-empty" : $"{repr} is too short";
                break;
            case "maxLength" or "maxItems":
                message = IsNumber(value, 0) ? $"{repr} is expected to be empty" : $"{repr} is too long";
                break;
            case "minProperties":
                message = IsNumber(value, 1) ? $"{repr} should be non-empty" : $"{repr} does not have enough properties";
                break;
            case "maxProperties":
                message = IsNumber(value, 0) ? $"{repr} is expected to be empty" : $"{repr} has too many properties";
                break;
            case "multipleOf":
                message = $"{repr} is not a multiple of {PythonRepr.Of(value)}";
                break;
            case "uniqueItems":
                message = $"{repr} has non-unique elements";
                break;
            case "contains":
                return null; // told once for the array (see Collect)
            case "dependencies":
                var dependency = (value as JsonObject)?.Where(d => instance is JsonObject o && o.ContainsKey(d.Key) && d.Value is JsonArray)
                    .SelectMany(d => ((JsonArray)d.Value!).Select(n => (Property: d.Key, Needed: n?.GetValue<string>())))
                    .Where(d => d.Needed is not null && instance is JsonObject o && !o.ContainsKey(d.Needed)).Select(d => ((string Property, string? Needed)?)d).FirstOrDefault();
                message = dependency is ({ } property, { } needed) ? $"{PythonRepr.String(needed)} is a dependency of {PythonRepr.String(property)}" : libraryMessage;
                break;
            case "format":
                return null;
            default:
                message = libraryMessage;
                break;
        }
        return new Failure(instancePath, keyword, at, message);
    }

    private static bool IsNumber(JsonNode? value, int expected) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.ToJsonString() == expected.ToString(CultureInfo.InvariantCulture);

    // Where a schema location falls in the schema's own order: at each object the key's position, in an array the index.
    private List<int> OrderOf(List<string> schemaPath)
    {
        var order = new List<int>(schemaPath.Count);
        var node = _schemaJson;
        foreach (var segment in schemaPath)
        {
            switch (node)
            {
                case JsonObject o:
                    order.Add(KeyIndex(o, segment));
                    node = o[segment];
                    break;
                case JsonArray a when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                    order.Add(i);
                    node = a[i];
                    break;
                default:
                    order.Add(int.MaxValue);
                    node = null;
                    break;
            }
        }
        return order;
    }

    private static int KeyIndex(JsonObject o, string key)
    {
        var i = 0;
        foreach (var (k, _) in o)
        {
            if (k == key)
                return i;
            i++;
        }
        return int.MaxValue;
    }

    /// <summary>
    /// Where in the schema a result node's keywords are. The library's schema location is right for most nodes and its
    /// evaluation path for the others (each misnames a few nested cases): the first that names a schema is taken.
    /// </summary>
    private List<string> SchemaPathOf(EvaluationResults node, List<string> evalPath)
    {
        var location = Segments(Uri.UnescapeDataString(node.SchemaLocation.Fragment.TrimStart('#')));
        if (IsSchema(Resolve(_schemaJson, location)))
            return location;
        if (IsSchema(Resolve(_schemaJson, evalPath)))
            return evalPath;
        while (location.Count > 0 && !IsSchema(Resolve(_schemaJson, location)))
            location.RemoveAt(location.Count - 1);
        return location;
    }

    private static bool IsSchema(JsonNode? node) =>
        node is JsonObject || (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False);

    private static int Index(string rest)
    {
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return int.Parse(slash < 0 ? rest : rest[..slash], CultureInfo.InvariantCulture);
    }

    private static JsonNode? Resolve(JsonNode? root, List<string> path)
    {
        var node = root;
        foreach (var segment in path)
        {
            node = node switch
            {
                JsonObject o => o[segment],
                JsonArray a when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
        }
        return node;
    }

    private static List<string> Segments(string pointer)
    {
        if (pointer.Length == 0 || pointer == "/")
            return pointer == "/" ? [""] : [];
        return pointer[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private sealed class OrderComparer : IComparer<IReadOnlyList<int>>
    {
        public static readonly OrderComparer Instance = new();

        public int Compare(IReadOnlyList<int>? x, IReadOnlyList<int>? y)
        {
            if (x is null || y is null)
                return (x is null ? 0 : 1) - (y is null ? 0 : 1);
            for (var i = 0; i < Math.Min(x.Count, y.Count); i++)
            {
                var c = x[i].CompareTo(y[i]);
                if (c != 0)
                    return c;
            }
            return x.Count.CompareTo(y.Count);
        }
    }
}
