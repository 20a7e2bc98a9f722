using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Quilt.Packages;

/// <summary>
/// Python's <c>fnmatch.fnmatchcase</c> (as <c>fnmatch.fnmatch</c> behaves on POSIX) as a .NET regular expression, so a
/// <c>.quiltignore</c> rule matches here exactly what it matches in quilt3: <c>*</c> any run of characters, '/'
/// included; <c>?</c> one character; <c>[seq]</c> / <c>[!seq]</c> a class with ranges; everything else literal (a
/// backslash too); the whole string must match; case-sensitive.
/// </summary>
public static class PythonFnmatch
{
    // One character as Python counts them (a code point): a surrogate pair or any single UTF-16 unit.
    private const string OneCodePoint = @"(?:[\uD800-\uDBFF][\uDC00-\uDFFF]|.)";

    public static Regex Compile(string pattern) =>
        new(Translate(pattern), RegexOptions.CultureInvariant | RegexOptions.Singleline | RegexOptions.ExplicitCapture);

    /// <summary>The regular expression (anchored at both ends) that matches what <paramref name="pattern"/> matches.</summary>
    public static string Translate(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var regex = new StringBuilder(@"\A");
        var i = 0;
        var n = pattern.Length;
        while (i < n)
        {
            var c = pattern[i++];
            switch (c)
            {
                case '*':
                    while (i < n && pattern[i] == '*')
                        i++;
                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append(OneCodePoint);
                    break;
                case '[':
                    i = AppendClass(pattern, i, regex);
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return regex.Append(@"\z").ToString();
    }

    /// <summary>
    /// A bracket expression starting after its '[' at <paramref name="start"/>; returns where matching goes on. As in
    /// Python: a ']' first (after an optional '!') is a member, an unclosed '[' is a literal '[', 'a-c' is a range, a
    /// '-' first or last is a member, a range whose ends are reversed matches nothing, an empty class never matches and
    /// '[!]' with nothing else matches any character.
    /// </summary>
    private static int AppendClass(string pattern, int start, StringBuilder regex)
    {
        var n = pattern.Length;
        var j = start;
        if (j < n && pattern[j] == '!')
            j++;
        if (j < n && pattern[j] == ']')
            j++;
        while (j < n && pattern[j] != ']')
            j++;
        if (j >= n)
        {
            regex.Append(@"\[");
            return start;
        }

        var negate = pattern[start] == '!';
        var body = pattern[(negate ? start + 1 : start)..j];
        var members = new StringBuilder();
        for (var k = 0; k < body.Length; k++)
        {
            var low = body[k];
            if (k + 2 < body.Length && body[k + 1] == '-')
            {
                var high = body[k + 2];
                k += 2;
                if (low > high)
                    continue; // an empty range: Python drops it
                members.Append(Escaped(low)).Append('-').Append(Escaped(high));
            }
            else
            {
                members.Append(Escaped(low));
            }
        }

        if (members.Length == 0)
            regex.Append(negate ? OneCodePoint : "(?!)");
        else
            regex.Append('[').Append(negate ? "^" : "").Append(members).Append(']');
        return j + 1;
    }

    // Every member as \uXXXX, so no character has a meaning inside the .NET class ('-', ']', '^', '\\', '[').
    private static string Escaped(char c) => "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);
}
