using System.Text;
using Parquet.Serialization;

namespace Quilt.Tables.Tests;

/// <summary>The table files the tests write: each format with the awkward parts users' files have.</summary>
internal static class TableFiles
{
    // Quoting (a comma and a doubled quote inside quotes), unicode, a missing value, an empty line at the end.
    public const string Csv = "id,name,city,score\n1,\"Smith, Ann\",Zürich,3.5\n2,\"Bo \"\"the\"\" Best\",Köln,\n3,Chloé,Zürich,1.5\n4,Dan,,2\n";

    public const string Tsv = "id\tword\n1\tälpha\n2\tbeta\n3\t\n";

    // No header, a quoted tab and doubled quotes inside quotes, a missing last value.
    public const string QuotedTsvWithoutHeader = "1\t\"Smith\tAnn\"\tZürich\n2\t\"Bo \"\"the\"\" Best\"\tKöln\n3\tChloé\t\n";

    // One column whose values hold commas: a sniffer left alone takes the comma for the delimiter.
    public const string OneColumnTsv = "name\nSmith, Ann\nBo, Best\nChloé, X\n";

    public const string JsonLines = "{\"id\": 1, \"tags\": [\"a\", \"b\"], \"v\": 1.5}\n{\"id\": 2, \"tags\": [], \"v\": null}\n{\"id\": 3, \"tags\": [\"c\"], \"v\": 4}\n";

    public sealed class Reading
    {
        public int Id { get; set; }
        public string? Station { get; set; }
        public double? Value { get; set; }
        public DateTime At { get; set; }
        public List<int>? Tags { get; set; }
    }

    public static IReadOnlyList<Reading> Readings(int first, int count) =>
        Enumerable.Range(first, count).Select(i => new Reading
        {
            Id = i,
            Station = i % 3 == 0 ? null : $"st-{i % 4}",
            Value = i % 5 == 0 ? null : i * 1.25,
            At = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours(i),
            Tags = [i, i + 1],
        }).ToList();

    /// <summary>A Parquet file with nulls, lists and timestamps, in row groups of <paramref name="rowGroupSize"/> rows.</summary>
    public static async Task<byte[]> ParquetAsync(IReadOnlyList<Reading> rows, int rowGroupSize, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, stream, new Parquet.ParquetOptions { RowGroupSize = rowGroupSize }, cancellationToken: cancellationToken);
        return stream.ToArray();
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
