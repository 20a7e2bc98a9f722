using System.Text;
using Quilt.Search.Query;

namespace Quilt.Search.Sqlite;

/// <summary>
/// Where a word of the search string is looked for: columns of the search's FTS5 table (<see cref="Columns"/>: an FTS5
/// column filter such as <c>{name}</c>, or "" for every column), or a SQL condition of its own (<see cref="Condition"/>,
/// given the word as an FTS5 phrase), for fields that live elsewhere (a metadata path, an extension).
/// </summary>
internal sealed record LeafTarget(string? Columns, Func<string, SearchExpression, string>? Condition = null);

/// <summary>
/// Translates a parsed search string to SQLite: as much of it as FTS5 can say goes into one MATCH (ranked by BM25); the
/// rest (a NOT with nothing positive beside it, fields outside the FTS table) becomes SQL over the same rows.
/// </summary>
/// <param name="idColumn">The row id the FTS table's rowid equals (<c>r.id</c>).</param>
/// <param name="ftsTable">The FTS5 table.</param>
/// <param name="resolve">Where a field's words are looked for (null field: every default column).</param>
internal sealed class FtsTranslator(SqlParameters parameters, string idColumn, string ftsTable, Func<string?, LeafTarget> resolve)
{
    /// <summary>The whole expression as one FTS5 query, or null when FTS5 cannot say it alone.</summary>
    public string? Match(SearchExpression expression)
    {
        switch (expression)
        {
            case TermExpression or PhraseExpression:
                var target = resolve(Field(expression));
                return target.Condition is null ? target.Columns + Phrase(expression) : null;
            case OrExpression or:
                var alternatives = or.Parts.Select(Match).ToList();
                return alternatives.Any(part => part is null) ? null : "(" + string.Join(" OR ", alternatives) + ")";
            case AndExpression and:
                var positive = and.Parts.Where(part => part is not NotExpression).Select(Match).ToList();
                var negative = and.Parts.OfType<NotExpression>().Select(not => Match(not.Operand)).ToList();
                if (positive.Count == 0 || positive.Any(part => part is null) || negative.Any(part => part is null))
                    return null;
                var match = new StringBuilder("(").AppendJoin(" AND ", positive).Append(')');
                foreach (var excluded in negative)
                    match.Append(" NOT ").Append(excluded);
                return "(" + match + ")";
            default:
                return null; // a NOT alone, or match-all
        }
    }

    /// <summary>The expression as a SQL condition on <c>idColumn</c>.</summary>
    public string Condition(SearchExpression expression)
    {
        if (Match(expression) is { } match)
            return $"{idColumn} IN (SELECT rowid FROM {ftsTable} WHERE {ftsTable} MATCH {parameters.Add(match)})";
        return expression switch
        {
            TermExpression or PhraseExpression => resolve(Field(expression)).Condition!(Phrase(expression), expression),
            AndExpression and => "(" + string.Join(" AND ", and.Parts.Select(Condition)) + ")",
            OrExpression or => "(" + string.Join(" OR ", or.Parts.Select(Condition)) + ")",
            NotExpression not => "NOT (" + Condition(not.Operand) + ")",
            _ => "1",
        };
    }

    /// <summary>
    /// Splits an expression into the part one MATCH says (null: none) and the SQL condition for the rest (null: none),
    /// so a query that is mostly words still ranks by BM25.
    /// </summary>
    public (string? Match, string? Remainder) Split(SearchExpression expression)
    {
        if (expression is MatchAllExpression)
            return (null, null);
        if (Match(expression) is { } whole)
            return (whole, null);
        if (expression is AndExpression and)
        {
            var matchable = and.Parts.Where(part => part is not NotExpression && Match(part) is not null).ToList();
            if (matchable.Count > 0)
            {
                var rest = and.Parts.Where(part => !matchable.Contains(part)).ToList();
                var match = Match(matchable.Count == 1 ? matchable[0] : new AndExpression(matchable))!;
                return (match, "(" + string.Join(" AND ", rest.Select(Condition)) + ")");
            }
        }
        return (null, Condition(expression));
    }

    /// <summary>The words of the expression that must or may match (not those under a NOT), each as an FTS5 phrase.</summary>
    public static IEnumerable<SearchExpression> PositiveLeaves(SearchExpression expression) => expression switch
    {
        TermExpression or PhraseExpression => [expression],
        AndExpression and => and.Parts.SelectMany(PositiveLeaves),
        OrExpression or => or.Parts.SelectMany(PositiveLeaves),
        _ => [],
    };

    public static string? Field(SearchExpression leaf) => leaf switch
    {
        TermExpression term => term.Field,
        PhraseExpression phrase => phrase.Field,
        _ => null,
    };

    /// <summary>A word or phrase as an FTS5 string (the tokenizer splits it as it split the text), with <c>*</c> for a prefix.</summary>
    public static string Phrase(SearchExpression leaf)
    {
        var (text, prefix) = leaf switch
        {
            TermExpression term => (term.Text, term.Prefix),
            PhraseExpression phrase => (phrase.Text, false),
            _ => throw new ArgumentException("Not a word or phrase.", nameof(leaf)),
        };
        if (!text.Any(char.IsLetterOrDigit))
        {
            throw new SearchQueryException($"'{text}' has no letters or digits, and only letters and digits are indexed. Search for a word.")
            {
                Field = "searchString",
            };
        }
        return "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" + (prefix ? " *" : "");
    }
}
