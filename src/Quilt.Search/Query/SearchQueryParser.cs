using System.Text;

namespace Quilt.Search.Query;

/// <summary>
/// The search syntax, a subset of Elasticsearch's <c>query_string</c> that every engine here can answer the same way:
/// <list type="bullet">
/// <item>words: <c>genome</c>; every word must match (AND is the default); case does not matter</item>
/// <item>phrases: <c>"single cell"</c></item>
/// <item><c>AND</c>, <c>OR</c>, <c>NOT</c> (upper case) and <c>-word</c>; parentheses group; OR binds looser than AND</item>
/// <item>a field: <c>name:genome</c>, <c>comment:"first run"</c>; the fields depend on the search</item>
/// <item>a prefix: <c>gen*</c> (only at a word's end)</item>
/// <item><c>\</c> escapes the next character (<c>a\:b</c>, <c>\"</c>)</item>
/// </list>
/// A colon ends a field name only after a name of letters, digits, <c>_</c> and <c>.</c> and not before <c>//</c>, so
/// <c>s3://bucket/key</c> is a word.
/// </summary>
public static class SearchQueryParser
{
    /// <summary>The longest search string accepted.</summary>
    public const int MaxLength = 4096;

    /// <summary>Parses a search string; null or blank is <see cref="MatchAllExpression"/>.</summary>
    /// <exception cref="SearchQueryException">The string does not parse; the message says where and why.</exception>
    public static SearchExpression Parse(string? searchString)
    {
        if (string.IsNullOrWhiteSpace(searchString))
        {
            return new MatchAllExpression();
        }

        if (searchString.Length > MaxLength)
        {
            throw Error($"The search string is {searchString.Length} characters long; the most is {MaxLength}. Search for fewer words.");
        }

        var tokens = Tokenize(searchString);
        var parser = new Parser(tokens);
        var expression = parser.ParseOr();
        if (!parser.AtEnd)
        {
            var token = parser.Current;
            throw Error(token.Kind == TokenKind.Close
                ? $"Unbalanced parenthesis: ')' at position {token.Position + 1} has no '(' before it. Remove it or add the '('."
                : $"Unexpected '{token.Text}' at position {token.Position + 1}.");
        }

        return expression;
    }

    private static SearchQueryException Error(string message) => new(message) { Field = "searchString" };

    private enum TokenKind
    {
        Word,
        Phrase,
        Open,
        Close,
        And,
        Or,
        Not,
    }

    private readonly record struct Token(TokenKind Kind, string Text, int Position, string? Field = null, bool Prefix = false);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            var start = i;
            if (c == '(')
            {
                tokens.Add(new Token(TokenKind.Open, "(", start));
                i++;
                continue;
            }

            if (c == ')')
            {
                tokens.Add(new Token(TokenKind.Close, ")", start));
                i++;
                continue;
            }

            if (c == '-' && i + 1 < text.Length && !char.IsWhiteSpace(text[i + 1]) && text[i + 1] != ')')
            {
                // -word is NOT word; a lone '-' or one inside a word (single-cell) is part of the text.
                tokens.Add(new Token(TokenKind.Not, "-", start));
                i++;
                continue;
            }

            string? field = null;
            if (c != '"')
            {
                var nameEnd = i;
                while (nameEnd < text.Length && (char.IsAsciiLetterOrDigit(text[nameEnd]) || text[nameEnd] is '_' or '.'))
                {
                    nameEnd++;
                }

                var isField = nameEnd > i && char.IsAsciiLetter(text[i]) && nameEnd < text.Length && text[nameEnd] == ':'
                    && !text.AsSpan(nameEnd + 1).StartsWith("//", StringComparison.Ordinal);
                if (isField)
                {
                    field = text[i..nameEnd].ToLowerInvariant();
                    i = nameEnd + 1;
                    if (i >= text.Length || char.IsWhiteSpace(text[i]) || text[i] is '(' or ')')
                    {
                        throw Error($"The field '{field}:' at position {start + 1} has no value. Write {field}:word or {field}:\"a phrase\".");
                    }
                }
            }

            if (text[i] == '"')
            {
                var phrase = new StringBuilder();
                var quote = i;
                i++;
                var closed = false;
                while (i < text.Length)
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        phrase.Append(text[i + 1]);
                        i += 2;
                        continue;
                    }

                    if (text[i] == '"')
                    {
                        closed = true;
                        i++;
                        break;
                    }

                    phrase.Append(text[i]);
                    i++;
                }

                if (!closed)
                {
                    throw Error($"Unbalanced quotes: the '\"' at position {quote + 1} is never closed. Close the phrase with '\"', or write \\\" for a literal quote.");
                }

                var words = phrase.ToString().Trim();
                if (words.Length == 0)
                {
                    throw Error($"The phrase at position {quote + 1} is empty. Put words between the quotes, or remove them.");
                }

                tokens.Add(new Token(TokenKind.Phrase, words, start, field));
                continue;
            }

            var word = new StringBuilder();
            var escapedLast = false;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not '(' and not ')' and not '"')
            {
                if (text[i] == '\\' && i + 1 < text.Length)
                {
                    word.Append(text[i + 1]);
                    escapedLast = true;
                    i += 2;
                    continue;
                }

                word.Append(text[i]);
                escapedLast = false;
                i++;
            }

            var value = word.ToString();
            if (field is null && !escapedLast && value is "AND" or "OR" or "NOT")
            {
                tokens.Add(new Token(value switch { "AND" => TokenKind.And, "OR" => TokenKind.Or, _ => TokenKind.Not }, value, start));
                continue;
            }

            var prefix = value.EndsWith('*') && !escapedLast;
            if (prefix)
            {
                value = value[..^1];
            }

            if (value.Contains('*', StringComparison.Ordinal) || value.Contains('?', StringComparison.Ordinal))
            {
                throw Error($"'{word}' at position {start + 1}: a wildcard may only end a word (gen*). Quote the word to search for '*' or '?' literally.");
            }

            if (value.Length == 0)
            {
                throw Error($"A lone '*' at position {start + 1} matches nothing; to match everything, leave the search string empty.");
            }

            tokens.Add(new Token(TokenKind.Word, value, start, field, prefix));
        }

        return tokens;
    }

    private sealed class Parser(List<Token> tokens)
    {
        private int _next;

        public bool AtEnd => _next >= tokens.Count;

        public Token Current => tokens[_next];

        public SearchExpression ParseOr()
        {
            var parts = new List<SearchExpression> { ParseAnd() };
            while (!AtEnd && Current.Kind == TokenKind.Or)
            {
                var or = Current;
                _next++;
                if (AtEnd || Current.Kind is TokenKind.Close or TokenKind.Or or TokenKind.And)
                {
                    throw Error($"'OR' at position {or.Position + 1} has nothing after it. Add a word after it, or remove it.");
                }

                parts.Add(ParseAnd());
            }

            return parts.Count == 1 ? parts[0] : new OrExpression(parts);
        }

        private SearchExpression ParseAnd()
        {
            var parts = new List<SearchExpression> { ParseUnary() };
            while (!AtEnd && Current.Kind is not TokenKind.Or and not TokenKind.Close)
            {
                if (Current.Kind == TokenKind.And)
                {
                    var and = Current;
                    _next++;
                    if (AtEnd || Current.Kind is TokenKind.Close or TokenKind.Or or TokenKind.And)
                    {
                        throw Error($"'AND' at position {and.Position + 1} has nothing after it. Add a word after it, or remove it.");
                    }
                }

                parts.Add(ParseUnary());
            }

            return parts.Count == 1 ? parts[0] : new AndExpression(parts);
        }

        private SearchExpression ParseUnary()
        {
            if (AtEnd)
            {
                throw Error("The search string ends where a word was expected.");
            }

            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.Not:
                    _next++;
                    if (AtEnd || Current.Kind is TokenKind.Close or TokenKind.Or or TokenKind.And)
                    {
                        throw Error($"'{token.Text}' at position {token.Position + 1} has nothing after it to exclude. Add a word after it, or remove it.");
                    }

                    return new NotExpression(ParseUnary());
                case TokenKind.Open:
                    _next++;
                    if (!AtEnd && Current.Kind == TokenKind.Close)
                    {
                        throw Error($"Empty parentheses at position {token.Position + 1}. Put words inside them, or remove them.");
                    }

                    var inner = ParseOr();
                    if (AtEnd || Current.Kind != TokenKind.Close)
                    {
                        throw Error($"Unbalanced parenthesis: the '(' at position {token.Position + 1} is never closed. Add the ')'.");
                    }

                    _next++;
                    return inner;
                case TokenKind.Word:
                    _next++;
                    return new TermExpression(token.Field, token.Text, token.Prefix);
                case TokenKind.Phrase:
                    _next++;
                    return new PhraseExpression(token.Field, token.Text);
                case TokenKind.And or TokenKind.Or:
                    throw Error($"'{token.Text}' at position {token.Position + 1} has nothing before it. Put a word before it, or remove it.");
                default:
                    throw Error($"Unbalanced parenthesis: ')' at position {token.Position + 1} has no '(' before it. Remove it or add the '('.");
            }
        }
    }
}
