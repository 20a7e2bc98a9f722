using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Gateway.Data;
using Quilt.Packages;

namespace Quilt.Gateway.Tests;

/// <summary>
/// The package registry (.quilt/) is written only by packageConstruct: no upload URL reaches it, a published manifest
/// is never replaced (its top hash does not cover physical keys), and a pointer names only a manifest that exists.
/// </summary>
public sealed class RegistryWriteTests(GatewayFixture gateway)
{
    private const string Construct = """
        mutation($params: PackagePushParams!, $src: PackageConstructSource!) {
          packageConstruct(params: $params, src: $src) {
            __typename
            ... on PackagePushSuccess { package { name } revision { hash } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonNode> ConstructAsync(string token, string name, string message, params object[] entries) =>
        (await gateway.DataAsync(token, Construct, new { @params = new { bucket = gateway.Data, name, message }, src = new { entries } }))["packageConstruct"]!;

    /// <summary>Alice publishes a one-entry revision; returns its name, top hash and the manifest's bytes as published.</summary>
    private async Task<(string Name, string TopHash, byte[] Manifest, ObjectHash Hash, int Size)> PublishAsync(string subject)
    {
        var source = $"pkgsrc/{subject}/data.csv";
        var content = Encoding.UTF8.GetBytes($"id,value\n1,{subject}\n");
        await gateway.PutAsync(gateway.Data, source, content, "text/csv");
        var name = $"team/{subject.Replace('-', '_')}";
        var result = await ConstructAsync(gateway.Tokens.Hs256(subject, "publisher"), name, "original",
            new { logicalKey = "data.csv", physicalKey = $"s3://{gateway.Data}/{source}" });
        Assert.True(result["__typename"]!.GetValue<string>() == "PackagePushSuccess", result.ToJsonString());
        var topHash = result["revision"]!["hash"]!.GetValue<string>();
        return (name, topHash, await gateway.ReadAsync(gateway.Data, RegistryLayout.ManifestKey(topHash)), ObjectHashing.Compute(content), content.Length);
    }

    public static TheoryData<string> RegistryKeys => new()
    {
        ".quilt/packages/{hash}",
        ".quilt/named_packages/{name}/latest",
        ".quilt/named_packages/{name}/1999999999",
        ".quilt/new-folder/x",
    };

    [Theory]
    [MemberData(nameof(RegistryKeys))]
    public async Task No_upload_url_is_handed_out_for_the_registry_even_to_a_role_that_may_write_everything(string pattern)
    {
        var alice = GatewayFixture.NewSubject("alice");
        var (name, topHash, manifest, _, _) = await PublishAsync(alice);
        var mallory = GatewayFixture.NewSubject("mallory");
        var token = gateway.Tokens.Hs256(mallory, "publisher");
        var key = pattern.Replace("{hash}", topHash, StringComparison.Ordinal).Replace("{name}", name, StringComparison.Ordinal);

        var (_, post) = await gateway.GraphQLAsync(token, "mutation($b: String!, $k: String!) { generateUploadUrl(bucket: $b, key: $k) { uploadUrl } }", new { b = gateway.Data, k = key });
        Assert.Null(post["data"]?["generateUploadUrl"]);
        Assert.Equal("FORBIDDEN", post["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
        Assert.Contains("packageConstruct", post["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var multipart = (await gateway.DataAsync(token, UploadTests.CreateMultipart, new { b = gateway.Data, k = key, size = 100.0 }))["multipartUploadCreate"]!;
        Assert.Equal("OperationError", multipart["__typename"]!.GetValue<string>());
        Assert.Equal("Forbidden", multipart["name"]!.GetValue<string>());

        Assert.Equal(manifest, await gateway.ReadAsync(gateway.Data, RegistryLayout.ManifestKey(topHash)));
        Assert.Equal(topHash, Encoding.ASCII.GetString(await gateway.ReadAsync(gateway.Data, RegistryLayout.LatestKey(name))));
        var audit = await gateway.AuditAsync(mallory);
        Assert.Contains(audit, e => e.Action == "generateUploadUrl" && e.Outcome == AuditOutcome.Denied);
        Assert.Contains(audit, e => e.Action == "multipartUploadCreate" && e.Outcome == AuditOutcome.Denied);
    }

    [Fact]
    public async Task A_construct_with_someone_elses_top_hash_and_other_physical_keys_replaces_nothing()
    {
        var alice = GatewayFixture.NewSubject("alice");
        var (name, topHash, manifest, hash, size) = await PublishAsync(alice);

        // Mallory's own object, as long as Alice's, claimed to hold Alice's bytes: the same top hash, other physical key.
        var mallory = GatewayFixture.NewSubject("mallory");
        var evil = $"pkgsrc/{mallory}/evil.csv";
        await gateway.PutAsync(gateway.Data, evil, Encoding.UTF8.GetBytes(new string('!', size)), "text/csv");
        var evilName = $"team/{mallory.Replace('-', '_')}";
        var result = await ConstructAsync(gateway.Tokens.Hs256(mallory, "publisher"), evilName, "original",
            new { logicalKey = "data.csv", physicalKey = $"s3://{gateway.Data}/{evil}", hash = new { type = hash.Type, value = hash.Value }, size = (double)size });
        Assert.True(result["__typename"]!.GetValue<string>() == "OperationError", result.ToJsonString());
        Assert.Equal("Conflict", result["name"]!.GetValue<string>());
        Assert.Contains(topHash, result["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // Alice's revision is as she published it, and Mallory's package names nothing.
        Assert.Equal(manifest, await gateway.ReadAsync(gateway.Data, RegistryLayout.ManifestKey(topHash)));
        var registry = new PackageRegistry(gateway.S3.CreateStore(), gateway.Data);
        var (_, read) = await registry.BrowseAsync(name, null, Ct);
        Assert.StartsWith($"s3://{gateway.Data}/pkgsrc/{alice}/data.csv", read.Find("data.csv")!.PhysicalKey, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PackageNotFoundException>(() => registry.ListRevisionsAsync(evilName, Ct));
        Assert.Contains(await gateway.AuditAsync(mallory), e => e.Action == "packageConstruct" && e.Outcome == AuditOutcome.Denied);
    }

    [Fact]
    public async Task The_same_construct_again_publishes_the_same_revision()
    {
        var alice = GatewayFixture.NewSubject("alice");
        var (name, topHash, manifest, _, _) = await PublishAsync(alice);
        var again = await ConstructAsync(gateway.Tokens.Hs256(alice, "publisher"), name, "original",
            new { logicalKey = "data.csv", physicalKey = $"s3://{gateway.Data}/pkgsrc/{alice}/data.csv" });
        Assert.True(again["__typename"]!.GetValue<string>() == "PackagePushSuccess", again.ToJsonString());
        Assert.Equal(topHash, again["revision"]!["hash"]!.GetValue<string>());
        Assert.Equal(manifest, await gateway.ReadAsync(gateway.Data, RegistryLayout.ManifestKey(topHash)));

        // Under another name too: both packages point at the one manifest.
        var copyName = name + "_copy";
        var copy = await ConstructAsync(gateway.Tokens.Hs256(alice, "publisher"), copyName, "original",
            new { logicalKey = "data.csv", physicalKey = $"s3://{gateway.Data}/pkgsrc/{alice}/data.csv" });
        Assert.True(copy["__typename"]!.GetValue<string>() == "PackagePushSuccess", copy.ToJsonString());
        var registry = new PackageRegistry(gateway.S3.CreateStore(), gateway.Data);
        Assert.Equal(topHash, (await registry.BrowseAsync(copyName, null, Ct)).TopHash);
    }
}
