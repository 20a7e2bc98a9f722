using System.Text.Json.Nodes;

namespace Quilt.Testing;

/// <summary>
/// Manifests written as quilt3 writes them, by Python's json module following quilt3's source (quilt3 itself cannot run
/// here), in TestData/quilt3-derived (see its README.md): each with the top hash quilt3's algorithm gives.
/// </summary>
public static class Quilt3DerivedFixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3-derived");

    /// <summary>The revision pointer (a unix timestamp, as quilt3 names them) a case is installed under besides latest.</summary>
    public const string TimestampTag = "1796245179";

    public static string ManifestPath(string name) => Path.Combine(Root, name, "manifest.jsonl");

    public static JsonObject Case(string name) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Root, name, "case.json")))!;

    public static string TopHash(string name) => Case(name)["top_hash"]!.GetValue<string>();

    /// <summary>The manifest's lines (no newline), the physical keys replaced by <paramref name="physicalKey"/>.</summary>
    public static string[] Lines(string name, string physicalKey) =>
        File.ReadAllText(ManifestPath(name)).Replace(Quilt3EdgeFixtures.FixturePhysicalKey, physicalKey, StringComparison.Ordinal)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Writes the case's manifest (physical keys replaced by <paramref name="physicalKey"/>, where a byte "x" is) and its
    /// pointers <see cref="TimestampTag"/> and latest as package derived/&lt;case&gt; into the registry folder
    /// <paramref name="registryRoot"/>, as quilt3 lays them out. Returns the package name.
    /// </summary>
    public static string Install(string registryRoot, string name, string physicalKey)
    {
        var topHash = TopHash(name);
        var quilt = Path.Combine(registryRoot, ".quilt");
        Directory.CreateDirectory(Path.Combine(quilt, "packages"));
        File.WriteAllText(Path.Combine(quilt, "packages", topHash), string.Concat(Lines(name, physicalKey).Select(l => l + "\n")));
        var pointers = Directory.CreateDirectory(Path.Combine(quilt, "named_packages", "derived", name)).FullName;
        File.WriteAllText(Path.Combine(pointers, TimestampTag), topHash);
        File.WriteAllText(Path.Combine(pointers, "latest"), topHash);
        return "derived/" + name;
    }
}
