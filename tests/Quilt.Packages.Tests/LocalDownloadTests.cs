using System.Security.Cryptography;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>The one download routine (object fetch, CLI get, package entries): a file appears whole and checked, or not at all.</summary>
public sealed class LocalDownloadTests : IDisposable
{
    private static readonly byte[] Data = TestStreams.Bytes(3 * 1024 * 1024 + 17, 4);
    private readonly TempDirectory _dir = new("quilt-download");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    private static Func<CancellationToken, Task<Stream>> Open(byte[] bytes) => _ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false));

    private static ManifestEntry Entry(byte[] recorded) =>
        new("data.bin", ["s3://bucket/data.bin"], recorded.Length, ObjectHashing.Compute(recorded));

    private async Task<string> ExistingAsync()
    {
        var path = _dir.Combine("data.bin");
        await File.WriteAllTextAsync(path, "old", Ct);
        return path;
    }

    private string[] Files() => Directory.GetFiles(_dir.Path).Select(Path.GetFileName).ToArray()!;

    [Fact]
    public async Task A_download_is_hashed_while_written_and_checked_against_its_entry()
    {
        var progress = new List<long>();
        var file = await LocalDownload.ToFileAsync(Open(Data), _dir.Combine("sub", "data.bin"), Data.Length, Entry(Data), overwrite: false,
            new SyncProgress(progress.Add), null, Ct);

        Assert.Equal(_dir.Combine("sub", "data.bin"), file.Path);
        Assert.Equal(Data.Length, file.Size);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Data)), file.Sha256);
        Assert.Equal(Data, await File.ReadAllBytesAsync(file.Path, Ct));
        Assert.Equal(Data.Length, progress.Sum());
        Assert.Equal(["data.bin"], Directory.GetFiles(_dir.Combine("sub")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Bytes_that_do_not_match_the_entry_replace_nothing_and_leave_no_temporary_file()
    {
        var path = await ExistingAsync();
        var tampered = (byte[])Data.Clone();
        tampered[^1] ^= 1;

        await Assert.ThrowsAsync<EntryMismatchException>(() =>
            LocalDownload.ToFileAsync(Open(tampered), path, tampered.Length, Entry(Data), overwrite: true, null, null, Ct));

        Assert.Equal("old", await File.ReadAllTextAsync(path, Ct));
        Assert.Equal(["data.bin"], Files());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public async Task Bytes_of_another_size_than_expected_replace_nothing(int difference)
    {
        var path = await ExistingAsync();

        var e = await Assert.ThrowsAsync<ObjectSizeMismatchException>(() =>
            LocalDownload.ToFileAsync(Open(Data), path, Data.Length - difference, null, overwrite: true, null, "s3://bucket/data.bin", Ct));

        Assert.StartsWith("s3://bucket/data.bin", e.Message, StringComparison.Ordinal);
        Assert.Equal("old", await File.ReadAllTextAsync(path, Ct));
        Assert.Equal(["data.bin"], Files());
    }

    [Fact]
    public async Task Without_overwrite_an_existing_file_is_left_as_it_was()
    {
        var path = await ExistingAsync();

        await Assert.ThrowsAsync<IOException>(() => LocalDownload.ToFileAsync(Open(Data), path, Data.Length, null, overwrite: false, null, null, Ct));

        Assert.Equal("old", await File.ReadAllTextAsync(path, Ct));
        Assert.Equal(["data.bin"], Files());
    }

    [Fact]
    public async Task A_cancelled_download_leaves_nothing_behind()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LocalDownload.ToFileAsync(
            _ => Task.FromResult(TestStreams.RunningAfter(Data, 1024 * 1024, cancel.Cancel)), _dir.Combine("data.bin"), Data.Length, null,
            overwrite: false, null, null, cancel.Token));

        Assert.Empty(Files());
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
