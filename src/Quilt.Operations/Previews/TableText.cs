using System.Text;

namespace Quilt.Operations.Previews;

/// <summary>Renders preview rows as a Markdown table, which people and models both read well.</summary>
internal static class TableText
{
    private const int MaxCell = 200;

    public static string Render(IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string?>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        var width = Math.Max(header.Count, rows.Count == 0 ? 0 : rows.Max(r => r.Count));
        var sb = new StringBuilder();
        AppendRow(sb, Enumerable.Range(0, width).Select(i => i < header.Count ? header[i] : $"column{i + 1}").ToList());
        sb.Append('|');
        for (var i = 0; i < width; i++)
            sb.Append(" --- |");
        sb.Append('\n');
        foreach (var row in rows)
            AppendRow(sb, Enumerable.Range(0, width).Select(i => i < row.Count ? row[i] : null).ToList());
        return sb.ToString();
    }

    private static void AppendRow(StringBuilder sb, IReadOnlyList<string?> cells)
    {
        sb.Append('|');
        foreach (var cell in cells)
            sb.Append(' ').Append(Cell(cell)).Append(" |");
        sb.Append('\n');
    }

    public static string Cell(string? value)
    {
        if (value is null)
            return "";
        var text = value.Length > MaxCell ? value[..MaxCell] + "…" : value;
        return text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ').Replace('\r', ' ');
    }
}
