using System.Globalization;

namespace Quilt.Operations;

/// <summary>
/// A page asked for: its size (1 to 1000) and the cursor of the page before, checked once. Listings the store pages
/// itself pass the cursor through; listings held whole (package names, a folder of a manifest) use an offset cursor.
/// </summary>
public readonly record struct PageRequest(int Size, string? Cursor)
{
    public const int MaxSize = 1000;

    /// <summary>Checks a page size and cursor as a caller gave them; the message names <paramref name="sizeArgument"/>.</summary>
    public static PageRequest Of(int size, string? cursor, string sizeArgument = "pageSize")
    {
        if (size is < 1 or > MaxSize)
            throw new OperationException($"{sizeArgument} {size} is out of range: use 1 to {MaxSize}.");
        return new PageRequest(size, string.IsNullOrEmpty(cursor) ? null : cursor);
    }

    /// <summary>The offset an offset cursor names (0 for the first page).</summary>
    public int Offset
    {
        get
        {
            if (Cursor is null)
                return 0;
            if (!int.TryParse(Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) || offset < 0)
                throw new OperationException($"cursor '{Cursor}' is not one this tool returned: pass nextCursor unchanged, or leave it out for the first page.");
            return offset;
        }
    }

    /// <summary>The offset cursor of the page after this one, or null when this page reaches <paramref name="total"/>.</summary>
    public string? NextCursor(int total) =>
        Offset + Size < total ? (Offset + Size).ToString(CultureInfo.InvariantCulture) : null;
}
