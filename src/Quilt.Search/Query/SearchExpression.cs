namespace Quilt.Search.Query;

/// <summary>A parsed search string (<see cref="SearchQueryParser"/>); each engine translates it to its own query language.</summary>
public abstract record SearchExpression
{
    /// <summary>The fields named (<c>field:value</c>), in order of appearance, without repeats.</summary>
    public IReadOnlyList<string> Fields()
    {
        var fields = new List<string>();
        Collect(this, fields);
        return fields;

        static void Collect(SearchExpression expression, List<string> into)
        {
            switch (expression)
            {
                case TermExpression { Field: { } field } when !into.Contains(field, StringComparer.Ordinal):
                    into.Add(field);
                    break;
                case PhraseExpression { Field: { } field } when !into.Contains(field, StringComparer.Ordinal):
                    into.Add(field);
                    break;
                case AndExpression and:
                    foreach (var part in and.Parts)
                    {
                        Collect(part, into);
                    }

                    break;
                case OrExpression or:
                    foreach (var part in or.Parts)
                    {
                        Collect(part, into);
                    }

                    break;
                case NotExpression not:
                    Collect(not.Operand, into);
                    break;
            }
        }
    }

    /// <summary>
    /// Refuses a field this search does not have, naming the ones it has; <paramref name="allowed"/> holds the exact
    /// names, and names ending in <c>.</c> allow any field under them (<c>meta.</c> allows <c>meta.project</c>).
    /// </summary>
    public void RequireFields(IReadOnlyCollection<string> allowed)
    {
        foreach (var field in Fields())
        {
            var known = allowed.Any(name => name.EndsWith('.')
                ? field.StartsWith(name, StringComparison.Ordinal) && field.Length > name.Length
                : string.Equals(field, name, StringComparison.Ordinal));
            if (!known)
            {
                throw new SearchQueryException(
                    $"Unknown field '{field}' in the search string. Fields here: {string.Join(", ", allowed.Select(name => name.EndsWith('.') ? name + "<path>" : name))}; "
                    + "or leave the field out to search them all. To search for a literal colon, quote the words (\"a:b\").")
                {
                    Field = "searchString",
                };
            }
        }
    }
}

/// <summary>Matches everything (an empty or blank search string).</summary>
public sealed record MatchAllExpression : SearchExpression;

/// <summary>One word, in one field or (null) in all; <see cref="Prefix"/>: any word starting with <see cref="Text"/> (<c>gene*</c>).</summary>
public sealed record TermExpression(string? Field, string Text, bool Prefix) : SearchExpression;

/// <summary>Words in this order, next to each other (<c>"single cell"</c>), in one field or (null) in all.</summary>
public sealed record PhraseExpression(string? Field, string Text) : SearchExpression;

/// <summary>Every part matches (<c>a b</c>, <c>a AND b</c>).</summary>
public sealed record AndExpression(IReadOnlyList<SearchExpression> Parts) : SearchExpression;

/// <summary>Any part matches (<c>a OR b</c>).</summary>
public sealed record OrExpression(IReadOnlyList<SearchExpression> Parts) : SearchExpression;

/// <summary>The operand does not match (<c>NOT a</c>, <c>-a</c>).</summary>
public sealed record NotExpression(SearchExpression Operand) : SearchExpression;
