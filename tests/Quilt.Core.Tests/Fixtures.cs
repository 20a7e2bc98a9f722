using System.Text.Json.Nodes;

namespace Quilt.Core.Tests;

/// <summary>The quilt3-made fixture cases shipped in TestData/quilt3 (copied from shared/fixtures/quilt3).</summary>
public static class Fixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3");

    public static TheoryData<string> Cases => new("basic", "boundaries", "metadata", "nometa");

    public static string CaseDir(string name) => Path.Combine(Root, name);

    public static JsonObject CaseJson(string name) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(CaseDir(name), "case.json")))!;

    public static string ExpectedTopHash(string name) => CaseJson(name)["top_hash"]!.GetValue<string>();

    public static string ManifestPath(string name) =>
        Directory.GetFiles(Path.Combine(CaseDir(name), "registry", ".quilt", "packages")).Single();

    /// <summary>Bytes of a large fixture file that is not stored: byte[i] = (i*31+seed) % 256.</summary>
    public static byte[] LargeFileBytes(long size, int seed)
    {
        var bytes = new byte[size];
        for (long i = 0; i < size; i++)
            bytes[i] = (byte)((i * 31 + seed) % 256);
        return bytes;
    }
}
