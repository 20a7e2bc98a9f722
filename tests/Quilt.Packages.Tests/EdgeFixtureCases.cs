using Quilt.Core;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>The quilt3-edge fixtures (<see cref="Quilt3EdgeFixtures"/>) as theory data, installed into a local store's bucket.</summary>
internal static class EdgeFixtureCases
{
    public static TheoryData<string> All => new(Quilt3EdgeFixtures.Names);

    public static string TopHash(string name) => Quilt3EdgeFixtures.TopHash(name);

    public static IReadOnlyList<string> LogicalKeys(string name) => Quilt3EdgeFixtures.LogicalKeys(name);

    /// <summary>Installs the case as package edge/&lt;case&gt; in <paramref name="bucket"/>, its data at <paramref name="dataFile"/>.</summary>
    public static string Install(LocalFolderStore store, string bucket, string name, string dataFile) =>
        Quilt3EdgeFixtures.Install(Path.Combine(store.Root, bucket), name, PhysicalKey.File(dataFile).ToString());
}
