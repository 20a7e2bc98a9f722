namespace Quilt.Core.Json;

/// <summary>
/// Orders strings by Unicode code point, as Python sorts str (and as S3 sorts UTF-8 keys). Ordinal UTF-16 order differs
/// only where a surrogate pair meets a character in U+E000–U+FFFF; the fix-up below reorders exactly those.
/// </summary>
public sealed class CodePointComparer : IComparer<string>
{
    public static readonly CodePointComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
            return 0;
        if (x is null)
            return -1;
        if (y is null)
            return 1;
        return Compare(x.AsSpan(), y.AsSpan());
    }

    public static int Compare(ReadOnlySpan<char> x, ReadOnlySpan<char> y)
    {
        var common = x.CommonPrefixLength(y);
        if (common == x.Length || common == y.Length)
            return x.Length.CompareTo(y.Length);
        return FixUp(x[common]).CompareTo(FixUp(y[common]));
    }

    // Surrogates (D800–DFFF) encode code points above FFFF, so they must sort after E000–FFFF.
    private static int FixUp(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;
}
