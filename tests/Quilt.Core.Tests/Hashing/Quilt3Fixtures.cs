using System.Text.Json;
using System.Text.RegularExpressions;
using Quilt.Core.Hashing;

namespace Quilt.Core.Tests.Hashing;

/// <summary>The quilt3 8.0.0 fixtures in TestData/quilt3: each entry's expected hash and where its bytes come from.</summary>
internal static partial class Quilt3Fixtures
{
    public static readonly string[] Cases = ["basic", "metadata", "nometa", "boundaries"];

    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3");

    public sealed record Entry(string Case, string LogicalKey, long Size, ObjectHash Hash, string? FilePath, int? Seed)
    {
        /// <summary>The entry's bytes: the fixture file, or the generated large file.</summary>
        public Stream Open() => FilePath is not null ? File.OpenRead(FilePath) : new PatternStream(Size, Seed!.Value);

        public Stream OpenRange(long offset, long length)
        {
            if (Seed is int seed)
                return new PatternStream(offset, length, seed);
            var file = File.OpenRead(FilePath!);
            file.Position = offset;
            return file;
        }
    }

    public static IReadOnlyList<Entry> Entries(string caseName)
    {
        var caseDir = Path.Combine(Root, caseName);
        using var caseJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(caseDir, "case.json")));
        var topHash = caseJson.RootElement.GetProperty("top_hash").GetString()!;

        var seeds = new Dictionary<string, (long Size, int Seed)>();
        foreach (var large in caseJson.RootElement.GetProperty("large_files").EnumerateArray())
        {
            var formula = large.GetProperty("byte_i").GetString()!;
            var match = SeedFormula().Match(formula);
            Assert.True(match.Success, $"case.json of {caseName} describes bytes as '{formula}', not (i*31+seed) % 256");
            seeds[large.GetProperty("logical_key").GetString()!] =
                (large.GetProperty("size").GetInt64(), int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }

        var entries = new List<Entry>();
        var manifest = Path.Combine(caseDir, "registry", ".quilt", "packages", topHash);
        foreach (var line in File.ReadLines(manifest).Skip(1).Where(l => l.Length > 0))
        {
            using var entry = JsonDocument.Parse(line);
            var root = entry.RootElement;
            var key = root.GetProperty("logical_key").GetString()!;
            var size = root.GetProperty("size").GetInt64();
            var hash = new ObjectHash(
                root.GetProperty("hash").GetProperty("type").GetString()!,
                root.GetProperty("hash").GetProperty("value").GetString()!);
            var file = Path.Combine(caseDir, "files", key);
            if (File.Exists(file))
                entries.Add(new Entry(caseName, key, size, hash, file, null));
            else if (seeds.TryGetValue(key, out var large))
            {
                Assert.Equal(size, large.Size);
                entries.Add(new Entry(caseName, key, size, hash, null, large.Seed));
            }
            else
                Assert.Fail($"Fixture {caseName}: entry {key} has neither a file nor a large_files description");
        }
        return entries;
    }

    public static Entry Find(string caseName, string logicalKey) =>
        Entries(caseName).Single(e => e.LogicalKey == logicalKey);

    [GeneratedRegex(@"^\(i\*31\+(\d+)\) % 256$")]
    private static partial Regex SeedFormula();
}
