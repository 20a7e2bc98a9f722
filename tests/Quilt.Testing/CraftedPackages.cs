using System.Globalization;
using System.Text;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Storage;

namespace Quilt.Testing;

/// <summary>
/// Revisions written as an attacker (or another tool) would write them: manifest lines given as text, stored with their
/// pointers straight into a registry bucket, never through the package code under test.
/// </summary>
public static class CraftedPackages
{
    /// <summary>One manifest entry line as quilt3 writes it.</summary>
    public static string EntryLine(string logicalKey, string physicalKey, long size, string hashType, string hashValue) =>
        $$$"""{"logical_key": "{{{logicalKey}}}", "physical_keys": ["{{{physicalKey}}}"], "size": {{{size.ToString(CultureInfo.InvariantCulture)}}}, "hash": {"type": "{{{hashType}}}", "value": "{{{hashValue}}}"}, "meta": {}}""";

    /// <summary>Stores a manifest made of <paramref name="entryLines"/> as the latest revision of <paramref name="name"/>; returns its top hash.</summary>
    public static async Task<string> PublishAsync(IObjectStore store, string bucket, string name, IEnumerable<string> entryLines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var text = string.Join("\n", ["""{"version": "v0", "message": "crafted", "user_meta": {}}""", .. entryLines]) + "\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        string topHash;
        using (var read = new MemoryStream(bytes, writable: false))
            topHash = (await ManifestReader.ReadAsync(read, cancellationToken)).TopHash;
        await PutAsync(store, bucket, RegistryLayout.ManifestKey(topHash), bytes, cancellationToken);
        var pointer = Encoding.ASCII.GetBytes(topHash);
        await PutAsync(store, bucket, RegistryLayout.PointerKey(name, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)), pointer, cancellationToken);
        await PutAsync(store, bucket, RegistryLayout.LatestKey(name), pointer, cancellationToken);
        return topHash;
    }

    private static async Task PutAsync(IObjectStore store, string bucket, string key, byte[] content, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(content, writable: false);
        await store.PutAsync(new PutRequest(bucket, key) { Length = content.Length }, stream, null, cancellationToken);
    }
}
