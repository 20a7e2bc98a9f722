using System.Text;
using Amazon.S3.Model;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>
/// Pushing packages someone else wrote, on the real S3 server: a manifest naming a file of this machine (a private key)
/// must never get that file published, and a push that fails leaves no data behind.
/// </summary>
public sealed class UntrustedPackageTests : IDisposable
{
    private static readonly byte[] Secret = Encoding.ASCII.GetBytes("-----BEGIN OPENSSH PRIVATE KEY-----\nnot really a key, but secret\n");
    private readonly TempDirectory _scratch = new("quilt-pkg-untrusted");

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string SecretFile()
    {
        var path = _scratch.Combine("home", ".ssh", "id_ed25519");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Secret);
        return path;
    }

    private static string LocalKey(string path) => PhysicalKey.File(path).ToString();

    private static async Task AssertBucketEmptyAsync(S3TestServer server, string bucket)
    {
        var versions = await server.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket }, Ct);
        Assert.Empty(versions.Versions ?? []);
        var uploads = await server.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket }, Ct);
        Assert.Empty(uploads.MultipartUploads ?? []);
    }

    [Theory]
    [InlineData(ObjectHash.Sha256Type)]
    [InlineData(ObjectHash.Sha256ChunkedType)]
    public async Task Pushing_an_s3_package_that_names_a_local_file_is_refused_before_anything_is_read_or_written(string hashType)
    {
        var server = await S3TestServer.GetAsync();
        var sourceBucket = await server.CreateBucketAsync(versioned: false, Ct);
        var destinationBucket = await server.CreateBucketAsync(versioned: true, Ct);
        using var s3 = server.CreateStore();
        // Even the file's true hash does not make it readable: a manifest in S3 may not name this machine's files at all.
        var secret = SecretFile();
        var hash = ObjectHashing.Compute(Secret, hashType);
        await CraftedPackages.PublishAsync(s3, sourceBucket, "evil/keys",
            [CraftedPackages.EntryLine("id_ed25519", LocalKey(secret), Secret.Length, hashType, hash.Value)], Ct);

        // A locator that may read local files, as the command line's was: the package service itself must refuse.
        var service = new PackageService(new ObjectLocator([s3], allowLocalFilesOutsideStores: true));
        var error = await Assert.ThrowsAsync<PackageException>(() =>
            service.PushAsync(new PackageRegistry(s3, sourceBucket), "evil/keys", null, new PackageRegistry(s3, destinationBucket), cancellationToken: Ct));
        Assert.Contains("'id_ed25519' points to a local file", error.Message, StringComparison.Ordinal);
        await AssertBucketEmptyAsync(server, destinationBucket);
    }

    [Theory]
    [InlineData(ObjectHash.Sha256Type, false)]
    [InlineData(ObjectHash.Sha256Type, true)]
    [InlineData(ObjectHash.Sha256ChunkedType, false)]
    [InlineData(ObjectHash.Sha256ChunkedType, true)]
    public async Task Pushing_a_local_file_entry_whose_recorded_hash_differs_publishes_nothing_and_leaves_no_data(string hashType, bool versioned)
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned, Ct);
        using var s3 = server.CreateStore();
        var local = new LocalFolderStore(_scratch.Combine("root"));
        // A local registry may name local files (quilt3 reads them), but the bytes pushed must be the ones it recorded.
        var guessed = ObjectHashing.Compute(new byte[Secret.Length], hashType);
        await CraftedPackages.PublishAsync(local, "local", "evil/keys",
            [CraftedPackages.EntryLine("id_ed25519", LocalKey(SecretFile()), Secret.Length, hashType, guessed.Value)], Ct);

        var service = new PackageService(new ObjectLocator([local, s3], allowLocalFilesOutsideStores: true));
        var error = await Assert.ThrowsAsync<EntryMismatchException>(() =>
            service.PushAsync(new PackageRegistry(local, "local"), "evil/keys", null, new PackageRegistry(s3, bucket), cancellationToken: Ct));
        Assert.Equal("id_ed25519", error.LogicalKey);
        Assert.Contains(guessed.Value, error.Message, StringComparison.Ordinal);
        Assert.Equal(ObjectHashing.Compute(Secret, hashType), error.ActualHash);
        await AssertBucketEmptyAsync(server, bucket);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_push_that_fails_on_one_entry_deletes_the_data_it_wrote_for_the_others(bool versioned)
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned, Ct);
        using var s3 = server.CreateStore();
        var local = new LocalFolderStore(_scratch.Combine("root"));
        var good = _scratch.Combine("good.txt");
        await File.WriteAllTextAsync(good, "fine", Ct);
        // Large enough to go up in parts: the mismatch shows only at its end, after the small entry is written.
        var changed = _scratch.Combine("changed.bin");
        var recorded = new byte[17 * 1024 * 1024];
        Random.Shared.NextBytes(recorded);
        await File.WriteAllBytesAsync(changed, recorded, Ct);
        var service = new PackageService(new ObjectLocator([local, s3], allowLocalFilesOutsideStores: true));
        var localRegistry = new PackageRegistry(local, "local");
        await service.CreateAsync(localRegistry, new CreatePackageRequest("team/two",
            [new LocalFileSource("a.txt", good), new LocalFileSource("z.bin", changed)]) { CopyData = false }, null, Ct);
        recorded[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(changed, recorded, Ct);

        var error = await Assert.ThrowsAsync<EntryMismatchException>(() =>
            service.PushAsync(localRegistry, "team/two", null, new PackageRegistry(s3, bucket), cancellationToken: Ct));
        Assert.Equal("z.bin", error.LogicalKey);
        await AssertBucketEmptyAsync(server, bucket);
        await Assert.ThrowsAsync<PackageNotFoundException>(() => new PackageRegistry(s3, bucket).BrowseAsync("team/two", null, Ct));
    }

    [Fact]
    public async Task Local_files_for_an_s3_registry_are_copied_even_without_copy_so_the_package_can_be_read_back()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        using var s3 = server.CreateStore();
        var file = _scratch.Combine("notes.txt");
        await File.WriteAllTextAsync(file, "notes", Ct);
        var registry = new PackageRegistry(s3, bucket);
        var service = new PackageService(new ObjectLocator([s3], allowLocalFilesOutsideStores: false));

        var created = await service.CreateAsync(registry, new CreatePackageRequest("team/notes", [new LocalFileSource("notes.txt", file)]) { CopyData = false }, null, Ct);

        Assert.Equal($"s3://{bucket}/team/notes/notes.txt", Assert.Single(created.Manifest.Entries).PhysicalKey);
        Assert.True((await service.VerifyAsync(created.Manifest, cancellationToken: Ct)).Ok);
    }
}
