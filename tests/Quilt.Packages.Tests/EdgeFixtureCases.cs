using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Storage.Local;

namespace Quilt.Packages.Tests;

/// <summary>
/// The odd manifests quilt3 8.0.0 writes and reads (TestData/quilt3-edge), installed as packages edge/&lt;case&gt; of a
/// registry in a local store, their data (one file "x") at a real path.
/// </summary>
internal static class EdgeFixtureCases
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3-edge");

    public static TheoryData<string> All => new(
        "backslash_key", "dir_line_without_slash", "duplicate_json_keys_user_meta", "duplicate_keys_entry_meta", "entry_meta_null",
        "entry_user_meta_null", "key_dotdot", "key_double_slash", "key_leading_slash", "key_tab", "lone_surrogate_escape",
        "package_user_meta_null", "size_float");

    public static string TopHash(string name) => CaseJson(name)["top_hash"]!.GetValue<string>();

    public static IReadOnlyList<string> LogicalKeys(string name) =>
        CaseJson(name)["logical_keys"]!.AsArray().Select(k => k!.GetValue<string>()).ToArray();

    /// <summary>
    /// Writes the case's manifest (physical keys pointing at <paramref name="dataFile"/>, which the top hash does not
    /// cover) and its revision pointers into <paramref name="store"/>'s <paramref name="bucket"/>, as quilt3 lays them out.
    /// </summary>
    public static string Install(LocalFolderStore store, string bucket, string name, string dataFile)
    {
        var topHash = TopHash(name);
        var text = File.ReadAllText(Path.Combine(Root, name, "manifest.jsonl"))
            .Replace("file:///fixtures/x", PhysicalKey.File(dataFile).ToString(), StringComparison.Ordinal);
        var registry = Path.Combine(store.Root, bucket, ".quilt");
        Directory.CreateDirectory(Path.Combine(registry, "packages"));
        File.WriteAllText(Path.Combine(registry, "packages", topHash), text);
        var pointers = Directory.CreateDirectory(Path.Combine(registry, "named_packages", "edge", name)).FullName;
        File.WriteAllText(Path.Combine(pointers, "1700000000"), topHash);
        File.WriteAllText(Path.Combine(pointers, "latest"), topHash);
        return "edge/" + name;
    }

    private static JsonObject CaseJson(string name) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Root, name, "case.json")))!;
}
