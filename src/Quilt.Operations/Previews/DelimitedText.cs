using System.Text;

namespace Quilt.Operations.Previews;

/// <summary>A small RFC 4180 reader (quotes, doubled quotes, line breaks inside quotes) for previews of CSV and TSV.</summary>
internal static class DelimitedText
{
    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> records. When <paramref name="complete"/> is false the text is a cut
    /// prefix of the file, so a last record not ended by a line break is dropped.
    /// </summary>
    public static List<List<string>> Parse(string text, char delimiter, int maxRecords, bool complete)
    {
        ArgumentNullException.ThrowIfNull(text);
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var inQuotes = false;
        var fieldStarted = false;
        var i = 0;
        while (i < text.Length && records.Count < maxRecords)
        {
            var c = text[i];
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i += 2;
                        continue;
                    }
                    inQuotes = false;
                }
                else
                {
                    field.Append(c);
                }
                i++;
                continue;
            }
            if (c == '"' && field.Length == 0 && !fieldStarted)
            {
                inQuotes = true;
                fieldStarted = true;
                i++;
            }
            else if (c == delimiter)
            {
                record.Add(field.ToString());
                field.Clear();
                fieldStarted = false;
                i++;
            }
            else if (c is '\r' or '\n')
            {
                i += c == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                if (record.Count > 0 || field.Length > 0 || fieldStarted)
                {
                    record.Add(field.ToString());
                    records.Add(record);
                }
                record = [];
                field.Clear();
                fieldStarted = false;
            }
            else
            {
                field.Append(c);
                fieldStarted = true;
                i++;
            }
        }
        if (i >= text.Length && complete && !inQuotes && (record.Count > 0 || field.Length > 0 || fieldStarted) && records.Count < maxRecords)
        {
            record.Add(field.ToString());
            records.Add(record);
        }
        return records;
    }

    /// <summary>For .csv files: ',' unless ';', '|' or a tab is clearly the separator of the first line.</summary>
    public static char SniffCsvDelimiter(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        var line = end < 0 ? text.AsSpan() : text.AsSpan(0, end);
        var best = ',';
        var bestCount = line.Count(',');
        foreach (var candidate in (ReadOnlySpan<char>)[';', '\t', '|'])
        {
            var count = line.Count(candidate);
            if (count > bestCount)
                (best, bestCount) = (candidate, count);
        }
        return best;
    }
}
