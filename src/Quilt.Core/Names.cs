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

    /// <summary>quilt3's validate_key: non-empty, no empty, '.' or '..' segment (so no leading or trailing '/').</summary>
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
            throw new InvalidNameException($"Invalid logical key '{key}': control characters are not allowed.");
    }

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    /// <summary>64 lowercase hex characters.</summary>
    public static bool IsTopHash(string? value) =>
        value is { Length: 64 } && value.AsSpan().IndexOfAnyExcept(LowerHex) < 0;

    /// <summary>A short hash that may name a revision: 6 to 64 lowercase hex characters (quilt3's minimum is 6).</summary>
    public static bool IsTopHashPrefix(string? value) =>
        value is { Length: >= 6 and <= 64 } && value.AsSpan().IndexOfAnyExcept(LowerHex) < 0;
}
