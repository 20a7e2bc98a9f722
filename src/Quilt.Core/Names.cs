using System.Buffers;
using System.Globalization;
using System.Text;

namespace Quilt.Core;

/// <summary>A name or key that quilt3 would refuse; the message names the value and the rule.</summary>
public sealed class InvalidNameException(string message) : FormatException(message);

/// <summary>quilt3's rules for package names, logical keys and top hashes.</summary>
public static class Names
{
    /// <summary>
    /// quilt3's <c>^[\w-]+/[\w-]+$</c> with Python's Unicode \w (letters, numbers, underscore), e.g. <c>user/name</c>.
    /// </summary>
    public static void ValidatePackageName(string? name)
    {
        if (!IsValidPackageName(name))
            throw new InvalidNameException(
                $"Invalid package name '{name}': use two parts separated by one '/', each made of letters, digits, '_' or '-' (for example 'team/dataset').");
    }

    public static bool IsValidPackageName(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return false;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < name.Length - 1 && IsWordPart(name.AsSpan(0, slash)) && IsWordPart(name.AsSpan(slash + 1));
    }

    private static bool IsWordPart(ReadOnlySpan<char> part)
    {
        foreach (var rune in part.EnumerateRunes())
        {
            if (rune.Value is '_' or '-')
                continue;
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.UppercaseLetter:
                case UnicodeCategory.LowercaseLetter:
                case UnicodeCategory.TitlecaseLetter:
                case UnicodeCategory.ModifierLetter:
                case UnicodeCategory.OtherLetter:
                case UnicodeCategory.DecimalDigitNumber:
                case UnicodeCategory.LetterNumber:
                case UnicodeCategory.OtherNumber:
                    continue;
                default:
                    return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The key a new entry may have (creating, adding, renaming): quilt3's validate_key (non-empty, no empty, '.' or '..'
    /// segment, so no leading, trailing or double '/') and, unlike quilt3, no control characters (tab, newline, ...):
    /// such a key could not be fetched to a local folder, and it breaks every listing printed a line per key. Manifests
    /// quilt3 wrote with such keys are still read (see <see cref="Manifests.ManifestReader"/>).
    /// </summary>
    public static void ValidateLogicalKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
            throw new InvalidNameException("Invalid logical key '': a package entry key cannot be empty.");
        var rest = key.AsSpan();
        while (true)
        {
            var slash = rest.IndexOf('/');
            var part = slash < 0 ? rest : rest[..slash];
            if (part.IsEmpty || part is "." || part is "..")
                throw new InvalidNameException(
                    $"Invalid logical key '{key}': a package entry key cannot have an empty, '.' or '..' segment (no leading, trailing or double '/').");
            if (slash < 0)
                break;
            rest = rest[(slash + 1)..];
        }
        if (key.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0)
            throw new InvalidNameException(
                $"Invalid logical key '{Escaped(key)}': control characters (tab, newline, ...) are not allowed in a new entry's key, "
                + "since it could not be fetched to a local folder; rename the file.");
    }

    /// <summary>A key fit to quote in a message: control characters shown as \uXXXX escapes.</summary>
    public static string Escaped(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsControl))
            return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (char.IsControl(c))
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else
                sb.Append(c);
        }
        return sb.ToString();
    }

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    /// <summary>64 lowercase hex characters.</summary>
    public static bool IsTopHash(string? value) =>
        value is { Length: 64 } && value.AsSpan().IndexOfAnyExcept(LowerHex) < 0;

    /// <summary>A short hash that may name a revision: 6 to 64 lowercase hex characters (quilt3's minimum is 6).</summary>
    public static bool IsTopHashPrefix(string? value) =>
        value is { Length: >= 6 and <= 64 } && value.AsSpan().IndexOfAnyExcept(LowerHex) < 0;
}
