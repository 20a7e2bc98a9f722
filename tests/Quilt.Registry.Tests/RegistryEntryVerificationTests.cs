using System.Text;
using Quilt.Core.Hashing;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Services;
using Quilt.Mcp.Tools;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>
/// Registry mode (only a Quilt JWT): the MCP server's package_entry_text and package_entry_fetch read an entry through
/// browsing sessions and check the whole of it against the manifest, exactly as they do on S3.
/// </summary>
public sealed class RegistryEntryVerificationTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Text_and_fetch_through_a_registry_refuse_an_entry_whose_data_changed()
    {
        var original = Encoding.UTF8.GetBytes("a,b\n1,2\n");
        var tampered = Encoding.UTF8.GetBytes("a,b\n6,6\n");
        var key = $"verify-{Guid.NewGuid():N}/table.csv";
        await fx.PutRawAsync(key, original, "text/csv");
        var name = $"team/v{Guid.NewGuid():N}"[..16];
        // An entry without a version id reads whatever the key holds now, as a manifest written elsewhere may have it.
        using (var s3 = fx.S3.CreateStore())
        {
            await CraftedPackages.PublishAsync(s3, fx.Data, name,
                [CraftedPackages.EntryLine("table.csv", $"s3://{fx.Data}/{key}", original.Length, ObjectHash.Sha256ChunkedType, ObjectHashing.Compute(original).Value)], Ct);
        }

        var store = fx.Store("reader");
        var settings = new ServerSettings
        {
            Storage = new StorageSettings(),
            RegistryUrl = fx.Gateway,
            AllowedBuckets = [fx.Data],
        };
        var operations = new QuiltOperations(new StoreConnection(store), settings, new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false)));
        var tools = new PackageReadTools(operations.Packages, operations.Objects);
        var package = $"quilt+s3://{fx.Data}#package={name}";

        var before = await tools.ReadEntryText(package, "table.csv", format: "text", cancellationToken: Ct);
        Assert.NotEqual(true, before.IsError);

        await fx.PutRawAsync(key, tampered, "text/csv");
        var expected = ObjectHashing.Compute(original).Value;
        var actual = ObjectHashing.Compute(tampered).Value;
        var text = await Assert.ThrowsAsync<EntryMismatchException>(() => tools.ReadEntryText(package, "table.csv", format: "text", cancellationToken: Ct));
        Assert.Contains(expected, text.Message, StringComparison.Ordinal);
        Assert.Contains(actual, text.Message, StringComparison.Ordinal);
        var inline = await Assert.ThrowsAsync<EntryMismatchException>(() => tools.FetchEntry(package, "table.csv", cancellationToken: Ct));
        Assert.Equal(ObjectHashing.Compute(tampered), inline.ActualHash);

        using var dir = new TempDirectory();
        var destination = dir.Combine("table.csv");
        await Assert.ThrowsAsync<EntryMismatchException>(() => tools.FetchEntry(package, "table.csv", destination: destination, cancellationToken: Ct));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
}
