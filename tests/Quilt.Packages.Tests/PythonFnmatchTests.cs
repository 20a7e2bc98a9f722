namespace Quilt.Packages.Tests;

/// <summary>
/// <see cref="PythonFnmatch"/> against what Python's fnmatch.fnmatchcase answers (from its documented syntax and its
/// translate(): '*' and '?' match '/', classes with ranges and '!', an unclosed '[' literal, no backslash escapes).
/// </summary>
public sealed class PythonFnmatchTests
{
    [Theory]
    [InlineData("*/*.tmp", "/r/x.tmp", true)]
    [InlineData("*/*.tmp", "/r/deep/down/x.tmp", true)] // '*' crosses '/'
    [InlineData("*/*.tmp", "/r/x.tmp.txt", false)] // whole-string match
    [InlineData("*/?.txt", "/r/a.txt", true)]
    [InlineData("*/?.txt", "/r/ab.txt", false)]
    [InlineData("*/a?b", "/r/a/b", true)] // '?' matches '/' as well
    [InlineData("*/[ab].csv", "/r/b.csv", true)]
    [InlineData("*/[ab].csv", "/r/c.csv", false)]
    [InlineData("*/[!ab].csv", "/r/c.csv", true)]
    [InlineData("*/[!ab].csv", "/r/a.csv", false)]
    [InlineData("[a-c]", "b", true)]
    [InlineData("[a-c]", "-", false)]
    [InlineData("[a-]", "-", true)] // a trailing '-' is a member
    [InlineData("[-a]", "-", true)] // so is a leading one
    [InlineData("[a-c-e]", "-", true)] // after a range, '-' is a member again
    [InlineData("[a-c-e]", "d", false)]
    [InlineData("[]]", "]", true)] // ']' first is a member
    [InlineData("[!]]", "a", true)]
    [InlineData("[!]]", "]", false)]
    [InlineData("[z-a]", "z", false)] // a reversed range matches nothing
    [InlineData("[!z-a]", "q", true)] // and negated, anything
    [InlineData("[z-ab]", "b", true)]
    [InlineData("[abc", "[abc", true)] // an unclosed '[' is literal
    [InlineData(@"a\*", @"a\xyz", true)] // a backslash is literal, not an escape
    [InlineData(@"[\]", @"\", true)]
    [InlineData("[^a]", "^", true)] // '^' is a member, not a negation
    [InlineData("[^a]", "b", false)]
    [InlineData("a.b", "axb", false)] // regex characters are literal
    [InlineData("(x)+", "(x)+", true)]
    [InlineData("#notes", "#notes", true)]
    [InlineData("Logs", "logs", false)] // case-sensitive (POSIX)
    [InlineData("*", "line\nbreak", true)] // '*' matches a newline (DOTALL)
    [InlineData("?", "\U0001F600", true)] // '?' is one code point, not one UTF-16 unit
    [InlineData("x\r", "x", false)]
    public void Matches_as_python_fnmatchcase(string pattern, string name, bool expected) =>
        Assert.Equal(expected, PythonFnmatch.Compile(pattern).IsMatch(name));
}
