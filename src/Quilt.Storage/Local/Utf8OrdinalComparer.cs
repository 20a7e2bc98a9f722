namespace Quilt.Storage.Local;

/// <summary>
/// Orders strings as S3 orders keys: by their UTF-8 bytes, which is Unicode code point order.
/// <see cref="string.CompareOrdinal(string, string)"/> compares UTF-16 code units instead, and puts characters
/// U+E000..U+FFFF after surrogate pairs (U+10000 and up); this comparer fixes that one difference.
/// </summary>
public sealed class Utf8OrdinalComparer : IComparer<string>
{
    public static Utf8OrdinalComparer Instance { get; } = new();

    private Utf8OrdinalComparer() { }

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
        return CodePointRank(x[common]).CompareTo(CodePointRank(y[common]));
    }

    // Moves surrogates (D800..DFFF) above E000..FFFF, so a pair ranks where its code point (>= U+10000) does.
    private static int CodePointRank(char c) => c switch
    {
        < '\uD800' => c,
        < '\uE000' => c + 0x2000,
        _ => c - 0x800,
    };
}
