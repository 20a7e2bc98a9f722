using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Gateway.Data;
using Quilt.Packages;

namespace Quilt.Gateway.Tests;

/// <summary>packageConstruct from uploaded objects, package reads, and package-scoped browsing sessions.</summary>
public sealed class PackageTests(GatewayFixture gateway)
{
    private const string Construct = """
        mutation($params: PackagePushParams!, $src: PackageConstructSource!) {
          packageConstruct(params: $params, src: $src) {
            __typename
            ... on PackagePushSuccess { package { bucket name } revision { hash message totalEntries totalBytes userMeta } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    private async Task<(string Subject, string Name, string A, string B)> SeedAsync()
    {
        var subject = GatewayFixture.NewSubject("pkg");
        var a = $"pkgsrc/{subject}/a.csv";
        var b = $"pkgsrc/{subject}/notes/b.txt";
        await gateway.PutAsync(gateway.Data, a, Encoding.UTF8.GetBytes("x,y\n1,2\n"), "text/csv");
        await gateway.PutAsync(gateway.Data, b, Encoding.UTF8.GetBytes("some notes"), "text/plain");
        return (subject, $"team/{subject.Replace('-', '_')}", a, b);
    }

    [Fact]
    public async Task A_package_is_built_from_uploaded_objects_published_and_readable()
    {
        var (subject, name, a, b) = await SeedAsync();
        var token = gateway.Tokens.Hs256(subject, "publisher");
        var knownHash = ObjectHashing.Compute("x,y\n1,2\n"u8);
        var result = (await gateway.DataAsync(token, Construct, new
        {
            @params = new { bucket = gateway.Data, name, message = "first cut", userMeta = new { project = "gateway", n = 3 } },
            src = new
            {
                entries = new object[]
                {
                    new { logicalKey = "a.csv", physicalKey = $"s3://{gateway.Data}/{a}", hash = new { type = knownHash.Type, value = knownHash.Value }, size = 8.0 },
                    new { logicalKey = "notes/b.txt", physicalKey = $"s3://{gateway.Data}/{b}", meta = new { user_meta = new { lang = "en" } } },
                },
            },
        }))["packageConstruct"]!;
        Assert.True(result["__typename"]!.GetValue<string>() == "PackagePushSuccess", result.ToJsonString());
        var hash = result["revision"]!["hash"]!.GetValue<string>();
        Assert.Equal("first cut", result["revision"]!["message"]!.GetValue<string>());
        Assert.Equal(2, result["revision"]!["totalEntries"]!.GetValue<int>());
        Assert.Equal(18, result["revision"]!["totalBytes"]!.GetValue<double>());
        Assert.Equal("gateway", result["revision"]!["userMeta"]!["project"]!.GetValue<string>());

        // What the registry now holds, read with the packages library: quilt3's layout, pinned versions, hashes.
        var registry = new PackageRegistry(gateway.S3.CreateStore(), gateway.Data);
        var (top, manifest) = await registry.BrowseAsync(name, null, TestContext.Current.CancellationToken);
        Assert.Equal(hash, top);
        Assert.Equal(hash, manifest.TopHash);
        var entryB = manifest.Find("notes/b.txt")!;
        Assert.Equal(ObjectHashing.Compute("some notes"u8), entryB.Hash);
        Assert.Contains("?versionId=", entryB.PhysicalKey, StringComparison.Ordinal);
        Assert.Equal("en", entryB.UserMeta!["lang"]!.GetValue<string>());
        Assert.Equal(knownHash, manifest.Find("a.csv")!.Hash);

        var read = await gateway.DataAsync(token, """
            query($b: String!, $n: String!) {
              packages(bucket: $b, filter: "pkg") { total page(perPage: 100, order: MODIFIED) { name modified } }
              package(bucket: $b, name: $n) {
                name modified
                revisions { total page { hash } }
                revision {
                  hash metadata
                  file(path: "a.csv") { path size physicalKey }
                  dir(path: "") { path size children { __typename ... on PackageFile { path } ... on PackageDir { path size } } }
                  contentsFlatMap
                }
              }
            }
            """, new { b = gateway.Data, n = name });
        Assert.Contains(read["packages"]!["page"]!.AsArray(), p => p!["name"]!.GetValue<string>() == name);
        var package = read["package"]!;
        Assert.Equal(1, package["revisions"]!["total"]!.GetValue<int>());
        Assert.Equal(hash, package["revision"]!["hash"]!.GetValue<string>());
        Assert.Equal(8, package["revision"]!["file"]!["size"]!.GetValue<double>());
        Assert.StartsWith($"s3://{gateway.Data}/{a}?versionId=", package["revision"]!["file"]!["physicalKey"]!.GetValue<string>(), StringComparison.Ordinal);
        var children = package["revision"]!["dir"]!["children"]!.AsArray();
        Assert.Contains(children, c => c!["__typename"]!.GetValue<string>() == "PackageDir" && c["path"]!.GetValue<string>() == "notes/");
        Assert.Contains(children, c => c!["__typename"]!.GetValue<string>() == "PackageFile" && c["path"]!.GetValue<string>() == "a.csv");
        Assert.NotNull(package["revision"]!["contentsFlatMap"]!["notes/b.txt"]);

        var line = Assert.Single(await gateway.AuditAsync(subject), e => e.Action == "packageConstruct");
        Assert.Equal(AuditOutcome.Allowed, line.Outcome);
        Assert.Equal(hash, line.Details!["topHash"]!.GetValue<string>());
        Assert.Equal(2, line.Details!["entries"]!.GetValue<int>());
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "uploader-target", "OperationError" },
        { "unreadable-source", "OperationError" },
        { "missing-source", "InvalidInput" },
        { "wrong-size", "InvalidInput" },
        { "local-file", "InvalidInput" },
        { "workflow", "InvalidInput" },
        { "bad-hash", "InvalidInput" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refused_constructions_write_nothing_and_are_audited(string kind, string typename)
    {
        var (subject, name, a, _) = await SeedAsync();
        await gateway.PutAsync(gateway.Other, $"{subject}/secret.txt", "secret"u8.ToArray());
        var role = kind == "uploader-target" ? "uploader" : "publisher";
        object entry = kind switch
        {
            "unreadable-source" => new { logicalKey = "s.txt", physicalKey = $"s3://{gateway.Other}/{subject}/secret.txt" },
            "missing-source" => new { logicalKey = "m.txt", physicalKey = $"s3://{gateway.Data}/pkgsrc/{subject}/missing.txt" },
            "wrong-size" => new { logicalKey = "a.csv", physicalKey = $"s3://{gateway.Data}/{a}", size = 9999.0 },
            "local-file" => new { logicalKey = "p.txt", physicalKey = "file:///etc/passwd" },
            "bad-hash" => new { logicalKey = "a.csv", physicalKey = $"s3://{gateway.Data}/{a}", hash = new { type = "MD5", value = "abc" } },
            _ => new { logicalKey = "a.csv", physicalKey = $"s3://{gateway.Data}/{a}" },
        };
        var result = (await gateway.DataAsync(gateway.Tokens.Hs256(subject, role), Construct, new
        {
            @params = new { bucket = gateway.Data, name, workflow = kind == "workflow" ? "alpha" : null },
            src = new { entries = new[] { entry } },
        }))["packageConstruct"]!;
        Assert.True(result["__typename"]!.GetValue<string>() == typename, result.ToJsonString());
        var message = typename == "InvalidInput" ? result["errors"]![0]!["message"]!.GetValue<string>() : result["message"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(message));

        var registry = new PackageRegistry(gateway.S3.CreateStore(), gateway.Data);
        await Assert.ThrowsAsync<PackageNotFoundException>(() => registry.ListRevisionsAsync(name, TestContext.Current.CancellationToken));
        var line = Assert.Single(await gateway.AuditAsync(subject), e => e.Action == "packageConstruct");
        Assert.Equal(AuditOutcome.Denied, line.Outcome);
    }

    [Fact]
    public async Task A_package_session_serves_its_entries_by_logical_key_only()
    {
        var (subject, name, a, b) = await SeedAsync();
        var token = gateway.Tokens.Hs256(subject, "publisher");
        var built = (await gateway.DataAsync(token, Construct, new
        {
            @params = new { bucket = gateway.Data, name },
            src = new { entries = new object[] { new { logicalKey = "a.csv", physicalKey = $"s3://{gateway.Data}/{a}" } } },
        }))["packageConstruct"]!;
        var hash = built["revision"]!["hash"]!.GetValue<string>();

        var session = (await gateway.DataAsync(token, "mutation($s: String!) { browsingSessionCreate(scope: $s) { __typename ... on BrowsingSession { id } ... on InvalidInput { errors { message } } ... on OperationError { message } } }",
            new { s = $"quilt+s3://{gateway.Data}#package={name}" }))["browsingSessionCreate"]!;
        Assert.True(session["__typename"]!.GetValue<string>() == "BrowsingSession", session.ToJsonString());
        var id = session["id"]!.GetValue<string>();
        using (var entry = await gateway.GetAsync(token, $"/browse/{id}/a.csv"))
        {
            Assert.Equal(HttpStatusCode.OK, entry.StatusCode);
            Assert.Equal("x,y\n1,2\n", await entry.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        // The other seeded object is in the bucket but not in the package.
        using (var other = await gateway.GetAsync(token, $"/browse/{id}/notes/b.txt"))
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Contains(await gateway.AuditAsync(subject), e => e.Action == "browsingSessionCreate" && e.Target == $"quilt+s3://{gateway.Data}#package={name}@{hash}");
        _ = b;
    }
}
