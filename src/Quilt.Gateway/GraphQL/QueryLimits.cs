using System.Globalization;
using System.Text;
using GraphQL.Execution;
using GraphQL.Validation;
using GraphQL.Validation.Errors.Custom;
using GraphQL.Validation.Rules.Custom;
using GraphQLParser.AST;
using Quilt.Gateway.Configuration;

namespace Quilt.Gateway.GraphQL;

/// <summary>
/// What one GraphQL document may cost. <see cref="Check"/> runs before GraphQL.NET sees the document, in time linear in
/// its size: the size in bytes, the number of fragments, and the number of fields once every fragment spread is
/// expanded (40 fragments each spreading the next twice expand to 2^40 fields; validating or running such a document
/// would take hours). Documents within those bounds then meet GraphQL.NET's own rules plus the depth and complexity
/// limits (<see cref="ValidationRules"/>). Every refusal names the limit and the setting.
/// </summary>
public sealed class QueryLimits
{
    private readonly GraphQLOptions _options;

    public QueryLimits(GraphQLOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        ValidationRules = [.. DocumentValidator.CoreRules, new LimitedComplexityRule(options)];
    }

    /// <summary>GraphQL.NET's standard rules plus the depth and complexity limits.</summary>
    public IReadOnlyList<IValidationRule> ValidationRules { get; }

    /// <summary>
    /// Null when <paramref name="query"/> is within the size, fragment and field limits, else why not. When it parses,
    /// <paramref name="document"/> is the parsed document (to execute without parsing again); when it does not,
    /// <paramref name="document"/> is null and GraphQL.NET reports the syntax error.
    /// </summary>
    public string? Check(string query, out GraphQLDocument? document)
    {
        ArgumentNullException.ThrowIfNull(query);
        document = null;
        // A UTF-16 code unit takes at most 3 UTF-8 bytes: only a text longer than a third of the limit needs counting.
        if (query.Length > _options.MaxQueryBytes / 3 && Encoding.UTF8.GetByteCount(query) > _options.MaxQueryBytes)
        {
            return $"The query document is {Encoding.UTF8.GetByteCount(query)} bytes; this gateway takes at most {_options.MaxQueryBytes} " +
                "(graphql.maxQueryBytes). Send large inputs as variables, or split the query.";
        }
        try
        {
            document = new GraphQLDocumentBuilder().Build(query);
        }
        catch (global::GraphQL.ExecutionError)
        {
            return null;
        }
        var fragments = document.Definitions.OfType<GraphQLFragmentDefinition>().Count();
        if (fragments > _options.MaxFragments)
        {
            return $"The query defines {fragments} fragments; this gateway takes at most {_options.MaxFragments} (graphql.maxFragments). " +
                "Use fewer fragments, or split the query.";
        }
        var fields = ExpandedFieldCount(document, _options.MaxFields);
        if (fields > _options.MaxFields)
        {
            return $"The query selects more than {_options.MaxFields} fields once its fragments are expanded (every operation and fragment " +
                $"counted, aliases and repeats included); {_options.MaxFields} is this gateway's limit (graphql.maxFields). " +
                "Ask for fewer fields, spread each fragment once, or split the query.";
        }
        return null;
    }

    /// <summary>
    /// Fields the document selects with every fragment spread replaced by the fragment, over all operations and fragment
    /// definitions; stops counting past <paramref name="limit"/>. Each fragment is counted once and remembered, so the
    /// work is linear however often fragments spread each other. Unknown and cyclic spreads count nothing (GraphQL.NET's
    /// rules refuse those documents).
    /// </summary>
    internal static long ExpandedFieldCount(GraphQLDocument document, long limit)
    {
        var shapes = new Dictionary<string, SelectionShape>(StringComparer.Ordinal);
        foreach (var fragment in document.Definitions.OfType<GraphQLFragmentDefinition>())
            shapes.TryAdd(fragment.FragmentName.Name.StringValue, SelectionShape.Of(fragment.SelectionSet));
        var costs = new Dictionary<string, long>(StringComparer.Ordinal);
        var cap = limit + 1;

        long Cost(string root)
        {
            if (costs.TryGetValue(root, out var known))
                return known;
            // Depth-first without recursion: a chain of many fragments must not exhaust the stack.
            var stack = new Stack<(string Name, int Next, long Sum)>();
            var open = new HashSet<string>(StringComparer.Ordinal) { root };
            stack.Push((root, 0, Math.Min(shapes[root].Fields, cap)));
            while (stack.Count > 0)
            {
                var (name, next, sum) = stack.Pop();
                var spreads = shapes[name].Spreads;
                var descended = false;
                while (next < spreads.Count && sum < cap)
                {
                    var spread = spreads[next++];
                    if (costs.TryGetValue(spread, out var cost))
                    {
                        sum = Math.Min(cap, sum + cost);
                        continue;
                    }
                    if (!shapes.TryGetValue(spread, out var shape) || open.Contains(spread))
                        continue;
                    stack.Push((name, next - 1, sum));
                    stack.Push((spread, 0, Math.Min(shape.Fields, cap)));
                    open.Add(spread);
                    descended = true;
                    break;
                }
                if (!descended)
                {
                    costs[name] = sum;
                    open.Remove(name);
                }
            }
            return costs[root];
        }

        long total = 0;
        foreach (var definition in document.Definitions)
        {
            if (total >= cap)
                break;
            switch (definition)
            {
                case GraphQLOperationDefinition operation:
                    var shape = SelectionShape.Of(operation.SelectionSet);
                    total = Math.Min(cap, total + shape.Fields);
                    foreach (var spread in shape.Spreads.Where(shapes.ContainsKey))
                        total = Math.Min(cap, total + Cost(spread));
                    break;
                case GraphQLFragmentDefinition fragment:
                    total = Math.Min(cap, total + Cost(fragment.FragmentName.Name.StringValue));
                    break;
            }
        }
        return total;
    }

    /// <summary>The fields written in one selection set (nested ones included) and the fragments it spreads, repeats kept.</summary>
    private sealed record SelectionShape(long Fields, List<string> Spreads)
    {
        public static SelectionShape Of(GraphQLSelectionSet? set)
        {
            var spreads = new List<string>();
            return new SelectionShape(FieldsWritten(set, spreads), spreads);
        }

        // Recursion follows the nesting written in the text, which the parser bounds (GraphQLDocumentBuilder.MaxDepth).
        private static long FieldsWritten(GraphQLSelectionSet? set, List<string> spreads)
        {
            long fields = 0;
            foreach (var selection in set?.Selections ?? [])
            {
                switch (selection)
                {
                    case GraphQLField field:
                        fields += 1 + FieldsWritten(field.SelectionSet, spreads);
                        break;
                    case GraphQLInlineFragment inline:
                        fields += FieldsWritten(inline.SelectionSet, spreads);
                        break;
                    case GraphQLFragmentSpread spread:
                        spreads.Add(spread.FragmentName.Name.StringValue);
                        break;
                }
            }
            return fields;
        }
    }

    /// <summary>GraphQL.NET's complexity analysis with the gateway's depth and cost limits, and messages that name them.</summary>
    private sealed class LimitedComplexityRule(GraphQLOptions options)
        : ComplexityValidationRule(new global::GraphQL.Validation.Complexity.ComplexityOptions { MaxDepth = options.MaxDepth, MaxComplexity = options.MaxComplexity })
    {
        protected override ValueTask ValidateComplexityAsync(ValidationContext context, double totalComplexity, int maxDepth)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (maxDepth > options.MaxDepth)
            {
                context.ReportError(new ComplexityError(
                    $"The query nests fields {maxDepth} deep; this gateway allows {options.MaxDepth} (graphql.maxDepth). Ask for less deeply nested data, or split the query."));
            }
            else if (totalComplexity > options.MaxComplexity)
            {
                context.ReportError(new ComplexityError(
                    $"The query's estimated cost is {totalComplexity.ToString("0", CultureInfo.InvariantCulture)} (each field counts 1, times the page size, " +
                    $"first, of every list it is in, or 5 for a list without one); this gateway allows {options.MaxComplexity} (graphql.maxComplexity). " +
                    "Ask for fewer fields or smaller pages, or split the query."));
            }
            return default;
        }
    }
}
