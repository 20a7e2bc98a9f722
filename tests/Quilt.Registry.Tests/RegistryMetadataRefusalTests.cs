using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core.Json;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Registry.Tests;

/// <summary>
/// Registry mode refuses, before anything is uploaded or published, a revision its packageConstruct could not publish as
/// built (issue 16): folder metadata it would drop, "user_meta": null it would turn into none, numbers quilt3 cannot read.
/// </summary>
public sealed class RegistryMetadataRefusalTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Cases => new(["folder metadata", "null metadata", "big integer"]);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_revision_the_registry_could_not_publish_as_built_is_refused_and_nothing_is_uploaded(string problem)
    {
        var store = fx.Store("writer");
        var registry = RegistryFixture.RegistryOf(store, fx.Data);
        var name = $"team/refused{Guid.NewGuid():N}"[..23];
        var service = new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false));
        var request = new CreatePackageRequest(name, [new InlineSource("sub/a.txt", "inline content"u8.ToArray())]) { CopyData = false };
        request = problem switch
        {
            "folder metadata" => request with { DirectoryMeta = new Dictionary<string, JsonNode?> { ["sub/"] = new JsonObject { ["k"] = 1 } } },
            "null metadata" => request with { NullUserMeta = true },
            _ => request with { UserMeta = PythonJson.Parse(Encoding.UTF8.GetBytes("{\"n\": " + new string('9', 4301) + "}")) },
        };

        var ex = await Assert.ThrowsAsync<PackageException>(() => service.CreateAsync(registry, request, null, Ct));

        Assert.Contains(problem switch
        {
            "folder metadata" => "packageConstruct cannot publish: it would be lost. Nothing was written.",
            "null metadata" => "cannot be published through a Quilt registry",
            _ => "more than the 4,300 Python reads",
        }, ex.Message, StringComparison.Ordinal);
        // The inline content was never uploaded, and no revision exists.
        Assert.False(await fx.ExistsAsync($"{name}/sub/a.txt"));
        await Assert.ThrowsAsync<PackageNotFoundException>(() => registry.BrowseAsync(name, null, Ct));
    }
}
