using System.Text.Json.Nodes;

namespace Quilt.Packages.Tests;

/// <summary>The quilt3-made fixture cases, with their large files regenerated as case.json describes.</summary>
internal static class FixtureCases
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3");

    public static TheoryData<string> All => new("basic", "boundaries", "metadata", "nometa");

    public static JsonObject CaseJson(string name) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Root, name, "case.json")))!;

    public static string TopHash(string name) => CaseJson(name)["top_hash"]!.GetValue<string>();

    public static string ManifestPath(string name) =>
        Directory.GetFiles(Path.Combine(Root, name, "registry", ".quilt", "packages")).Single();

    /// <summary>Copies the case's files (small ones from the fixture, large ones generated) into <paramref name="target"/>.</summary>
    public static void MaterializeFiles(string name, string target)
    {
        var files = Path.Combine(Root, name, "files");
        if (Directory.Exists(files))
        {
            foreach (var file in Directory.GetFiles(files, "*", SearchOption.AllDirectories))
            {
                var dest = Path.Combine(target, Path.GetRelativePath(files, file));
                Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                File.Copy(file, dest);
            }
        }
        foreach (var large in CaseJson(name)["large_files"]!.AsArray())
        {
            var key = large!["logical_key"]!.GetValue<string>();
            var size = large["size"]!.GetValue<long>();
            var formula = large["byte_i"]!.GetValue<string>(); // "(i*31+SEED) % 256"
            var seed = int.Parse(formula.Split('+')[1].Split(')')[0], System.Globalization.CultureInfo.InvariantCulture);
            var dest = Path.Combine(target, key);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            using var stream = File.Create(dest);
            var buffer = new byte[1 << 20];
            for (long offset = 0; offset < size; offset += buffer.Length)
            {
                var n = (int)Math.Min(buffer.Length, size - offset);
                for (var j = 0; j < n; j++)
                    buffer[j] = (byte)(((offset + j) * 31 + seed) % 256);
                stream.Write(buffer, 0, n);
            }
        }
    }

    /// <summary>The metadata quilt3 was given for each case, read back from its manifest.</summary>
    public static (string? Message, JsonNode? UserMeta, Dictionary<string, JsonNode?> EntryMeta) Inputs(string name)
    {
        var lines = File.ReadAllLines(ManifestPath(name));
        var package = JsonNode.Parse(lines[0])!.AsObject();
        var entryMeta = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var entry = JsonNode.Parse(line)!.AsObject();
            if (entry["meta"]?["user_meta"] is { } um)
                entryMeta[entry["logical_key"]!.GetValue<string>()] = um.DeepClone();
        }
        return (package["message"]?.GetValue<string>(), package["user_meta"]?.DeepClone(), entryMeta);
    }
}
