using System.Text;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

/// <summary>
/// The command line given a package from S3 whose manifest names a file of this machine, with its true hash: get and
/// push refuse before they read or write anything.
/// </summary>
public sealed class UntrustedPackageCommandTests : IDisposable
{
    private readonly TempDirectory _scratch = new("quilt-cli-untrusted");

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(ObjectHash.Sha256Type)]
    [InlineData(ObjectHash.Sha256ChunkedType)]
    public async Task Get_and_push_of_an_s3_package_naming_a_local_file_refuse_and_write_nothing(string hashType)
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        var target = await server.CreateBucketAsync(versioned: false, Ct);
        var secret = _scratch.Combine("passwd");
        var bytes = Encoding.ASCII.GetBytes("root:x:0:0:root:/root:/bin/bash\n");
        await File.WriteAllBytesAsync(secret, bytes, Ct);
        using var s3 = server.CreateStore();
        // An ordinary entry beside it, which a get would otherwise have written before reaching the bad one.
        var readme = Encoding.ASCII.GetBytes("hello");
        await s3.PutAsync(new PutRequest(bucket, "evil/pkg/README"), new MemoryStream(readme), null, Ct);
        await CraftedPackages.PublishAsync(s3, bucket, "evil/pkg",
        [
            CraftedPackages.EntryLine("README", $"s3://{bucket}/evil/pkg/README", readme.Length, ObjectHash.Sha256ChunkedType, ObjectHashing.Compute(readme).Value),
            CraftedPackages.EntryLine("etc/passwd", PhysicalKey.File(secret).ToString(), bytes.Length, hashType, ObjectHashing.Compute(bytes, hashType).Value),
        ], Ct);

        var cli = new CliRunner(_scratch.Combine("root"));
        string[] s3Args = ["--storage", "s3", "--endpoint", server.EndpointUrl, "--region", server.Region, "--path-style"];
        var dest = _scratch.Combine("out");
        var get = await cli.RunAsync([.. s3Args, "package", "get", "evil/pkg", "--dest", dest, "-r", bucket]);
        Assert.Equal(1, get.ExitCode);
        Assert.Contains("'etc/passwd' points to a local file", get.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dest) && Directory.EnumerateFileSystemEntries(dest).Any(), "get wrote into --dest");

        var push = await cli.RunAsync([.. s3Args, "package", "push", "evil/pkg", "-r", bucket, "--to", $"s3://{target}"]);
        Assert.Equal(1, push.ExitCode);
        Assert.Contains("'etc/passwd' points to a local file", push.Stderr, StringComparison.Ordinal);
        Assert.Empty((await s3.ListAsync(new ListRequest(target, ""), Ct)).Objects);

        var verify = await cli.RunAsync([.. s3Args, "package", "verify", "evil/pkg", "-r", bucket]);
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("'etc/passwd' points to a local file", verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_of_an_s3_entry_whose_data_changed_fails_naming_both_hashes_and_leaves_nothing()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        var cli = new CliRunner(_scratch.Combine("root"));
        string[] s3Args = ["--storage", "s3", "--endpoint", server.EndpointUrl, "--region", server.Region, "--path-style"];
        var file = _scratch.Combine("data.txt");
        await File.WriteAllTextAsync(file, "recorded", Ct);
        await cli.OkAsync([.. s3Args, "package", "create", "team/changed", file, "-r", bucket]);
        using var s3 = server.CreateStore();
        await s3.PutAsync(new PutRequest(bucket, "team/changed/data.txt"), new MemoryStream("replaced"u8.ToArray()), null, Ct);

        var dest = _scratch.Combine("out");
        var get = await cli.RunAsync([.. s3Args, "package", "get", "team/changed", "--dest", dest, "-r", bucket]);
        Assert.Equal(1, get.ExitCode);
        Assert.Contains(ObjectHashing.Compute("recorded"u8).Value, get.Stderr, StringComparison.Ordinal);
        Assert.Contains(ObjectHashing.Compute("replaced"u8).Value, get.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(dest) ? Directory.GetFileSystemEntries(dest, "*", SearchOption.AllDirectories) : []);
    }
}
