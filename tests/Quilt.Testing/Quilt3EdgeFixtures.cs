using System.Text.Json.Nodes;

namespace Quilt.Testing;

/// <summary>
/// The odd manifests quilt3 8.0.0 writes and reads, in TestData/quilt3-edge (copied from shared/fixtures/quilt3-edge, and
/// into each test project's output): each with the top hash and logical keys quilt3 gives after Package.load.
/// </summary>
public static class Quilt3EdgeFixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3-edge");

    public static IReadOnlyList<string> Names { get; } =
    [
        "backslash_key", "dir_line_without_slash", "duplicate_json_keys_user_meta", "duplicate_keys_entry_meta", "entry_meta_null",
        "entry_user_meta_null", "key_dotdot", "key_double_slash", "key_leading_slash", "key_tab", "lone_surrogate_escape",
        "package_user_meta_null", "size_float",
    ];

    /// <summary>The physical key every fixture entry has (its data is one byte, "x"); the top hash does not cover it.</summary>
    public const string FixturePhysicalKey = "file:///fixtures/x";

    public static string TopHash(string name) => CaseJson(name)["top_hash"]!.GetValue<string>();

    public static IReadOnlyList<string> LogicalKeys(string name) =>
        CaseJson(name)["logical_keys"]!.AsArray().Select(k => k!.GetValue<string>()).ToArray();

    /// <summary>
    /// Writes the case's manifest, its physical keys replaced by <paramref name="physicalKey"/> (where a byte "x" is), and
    /// its revision pointers as package edge/&lt;case&gt; into the registry folder <paramref name="registryRoot"/>, as quilt3
    /// lays them out. Returns the package name.
    /// </summary>
    public static string Install(string registryRoot, string name, string physicalKey)
    {
        var topHash = TopHash(name);
        var text = File.ReadAllText(Path.Combine(Root, name, "manifest.jsonl")).Replace(FixturePhysicalKey, physicalKey, StringComparison.Ordinal);
        var quilt = Path.Combine(registryRoot, ".quilt");
        Directory.CreateDirectory(Path.Combine(quilt, "packages"));
        File.WriteAllText(Path.Combine(quilt, "packages", topHash), text);
        var pointers = Directory.CreateDirectory(Path.Combine(quilt, "named_packages", "edge", name)).FullName;
        File.WriteAllText(Path.Combine(pointers, "1700000000"), topHash);
        File.WriteAllText(Path.Combine(pointers, "latest"), topHash);
        return "edge/" + name;
    }

    private static JsonObject CaseJson(string name) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Root, name, "case.json")))!;
}
