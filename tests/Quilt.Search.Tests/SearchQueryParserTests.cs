using Quilt.Search.Query;

namespace Quilt.Search.Tests;

public sealed class SearchQueryParserTests
{
    [Fact]
    public void Words_are_anded_and_or_binds_looser()
    {
        var parsed = SearchQueryParser.Parse("cell atlas OR genome");

        Assert.Equal(
            new OrExpression([new AndExpression([new TermExpression(null, "cell", false), new TermExpression(null, "atlas", false)]), new TermExpression(null, "genome", false)]),
            parsed,
            new ExpressionComparer());
    }

    [Fact]
    public void Fields_phrases_prefixes_negation_and_groups_parse()
    {
        var parsed = SearchQueryParser.Parse("name:gen* -comment:\"first run\" (a OR NOT b)");

        var and = Assert.IsType<AndExpression>(parsed);
        Assert.Equal(new TermExpression("name", "gen", true), and.Parts[0]);
        Assert.Equal(new NotExpression(new PhraseExpression("comment", "first run")), and.Parts[1]);
        var or = Assert.IsType<OrExpression>(and.Parts[2]);
        Assert.Equal(new TermExpression(null, "a", false), or.Parts[0]);
        Assert.Equal(new NotExpression(new TermExpression(null, "b", false)), or.Parts[1]);
        Assert.Equal(["name", "comment"], parsed.Fields());
    }

    [Theory]
    [InlineData("s3://bucket/key.csv", "s3://bucket/key.csv")]
    [InlineData("single-cell", "single-cell")]
    [InlineData("a\\:b", "a:b")]
    [InlineData("and", "and")]
    public void Words_that_look_like_syntax_stay_words(string input, string word)
    {
        Assert.Equal(new TermExpression(null, word, false), SearchQueryParser.Parse(input));
    }

    [Theory]
    [InlineData("\"unclosed phrase", "Unbalanced quotes")]
    [InlineData("(a OR b", "never closed")]
    [InlineData("a)", "has no '('")]
    [InlineData("a OR", "'OR' at position 3 has nothing after it")]
    [InlineData("AND a", "nothing before it")]
    [InlineData("name:", "has no value")]
    [InlineData("ge*ne", "a wildcard may only end a word")]
    [InlineData("*", "lone '*'")]
    [InlineData("()", "Empty parentheses")]
    public void Bad_search_strings_are_refused_saying_where(string input, string expected)
    {
        var error = Assert.Throws<SearchQueryException>(() => SearchQueryParser.Parse(input));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal("searchString", error.Field);
    }

    [Fact]
    public void Blank_matches_everything()
    {
        Assert.IsType<MatchAllExpression>(SearchQueryParser.Parse("  "));
        Assert.IsType<MatchAllExpression>(SearchQueryParser.Parse(null));
    }

    [Fact]
    public void Unknown_fields_are_refused_naming_the_known_ones()
    {
        var parsed = SearchQueryParser.Parse("colour:red meta.project:x");

        var error = Assert.Throws<SearchQueryException>(() => parsed.RequireFields(["name", "comment", "meta."]));
        Assert.Contains("Unknown field 'colour'", error.Message, StringComparison.Ordinal);
        Assert.Contains("name, comment, meta.<path>", error.Message, StringComparison.Ordinal);
        SearchQueryParser.Parse("meta.project:x name:y").RequireFields(["name", "meta."]);
    }

    private sealed class ExpressionComparer : IEqualityComparer<SearchExpression>
    {
        public bool Equals(SearchExpression? x, SearchExpression? y) => (x, y) switch
        {
            (AndExpression a, AndExpression b) => a.Parts.SequenceEqual(b.Parts, this),
            (OrExpression a, OrExpression b) => a.Parts.SequenceEqual(b.Parts, this),
            (NotExpression a, NotExpression b) => Equals(a.Operand, b.Operand),
            _ => object.Equals(x, y),
        };

        public int GetHashCode(SearchExpression obj) => 0;
    }
}
