using Quilt.Core.Json;

namespace Quilt.Core.Manifests;

/// <summary>
/// The order of quilt3's tree walk: segment by segment, each by code point, so <c>a/b</c> comes before <c>a.txt</c>
/// (the folder <c>a</c> sorts before the name <c>a.txt</c>).
/// </summary>
public sealed class LogicalKeyComparer : IComparer<string>
{
    public static readonly LogicalKeyComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
            return 0;
        if (x is null)
            return -1;
        if (y is null)
            return 1;
        ReadOnlySpan<char> a = x, b = y;
        while (true)
        {
            var ia = a.IndexOf('/');
            var ib = b.IndexOf('/');
            var sa = ia < 0 ? a : a[..ia];
            var sb = ib < 0 ? b : b[..ib];
            var c = CodePointComparer.Compare(sa, sb);
            if (c != 0)
                return c;
            if (ia < 0 || ib < 0)
                return (ia < 0 ? 0 : 1) - (ib < 0 ? 0 : 1);
            a = a[(ia + 1)..];
            b = b[(ib + 1)..];
        }
    }
}
