using System.Text.Json.Nodes;

namespace Quilt.Core.Tests;

/// <summary>
/// Manifests quilt3 8.0.0 writes and reads that are odd on purpose (shipped in TestData/quilt3-edge, copied from
/// shared/fixtures/quilt3-edge): each with the top hash and logical keys quilt3 gives after Package.load.
/// </summary>
public static class EdgeFixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3-edge");

    public static TheoryData<string> Cases => new(
        "backslash_key", "dir_line_without_slash", "duplicate_json_keys_user_meta", "duplicate_keys_entry_meta", "entry_meta_null",
        "entry_user_meta_null", "key_dotdot", "key_double_slash", "key_leading_slash", "key_tab", "lone_surrogate_escape",
        "package_user_meta_null", "size_float");

    public static string ManifestPath(string name) => Path.Combine(Root, name, "manifest.jsonl");

    public static string TopHash(string name) => CaseJson(name)["top_hash"]!.GetValue<string>();

    public static IReadOnlyList<string> LogicalKeys(string name) =>
        CaseJson(name)["logical_keys"]!.AsArray().Select(k => k!.GetValue<string>()).ToArray();

    private static JsonObject CaseJson(string name) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Root, name, "case.json")))!;
}
