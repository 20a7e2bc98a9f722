using System.Text;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Storage.Tests.Local;

/// <summary>A store over a fresh temp root, with a sibling folder outside the root for escape tests.</summary>
internal sealed class LocalStoreFixture : IDisposable
{
    private readonly TempDirectory _temp = new();

    public LocalStoreFixture()
    {
        Store = new LocalFolderStore(_temp.Combine("root"));
        Outside = _temp.Combine("outside");
        Directory.CreateDirectory(Outside);
    }

    public LocalFolderStore Store { get; }

    /// <summary>A folder next to the root, which nothing in the store may read or write.</summary>
    public string Outside { get; }

    public string PathOf(string bucket, string key) => Path.Join([Store.Root, bucket, .. key.Split('/')]);

    public static CancellationToken Token => TestContext.Current.CancellationToken;

    public Task<PutResult> PutTextAsync(string bucket, string key, string text, PutRequest? request = null) =>
        Store.PutAsync((request ?? new PutRequest(bucket, key)), new MemoryStream(Encoding.UTF8.GetBytes(text)), cancellationToken: Token);

    public async Task<string> ReadTextAsync(string bucket, string key, ByteRange? range = null)
    {
        await using var stream = await Store.OpenReadAsync(new ObjectRef(bucket, key), range, Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(Token);
    }

    /// <summary>Every file under the root except housekeeping (hidden ones too), as paths relative to the root.</summary>
    public IReadOnlyList<string> FilesUnderRoot() =>
        [.. Directory.EnumerateFiles(Store.Root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.None })
            .Select(f => Path.GetRelativePath(Store.Root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => !f.StartsWith(".quilt-mcp/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    public IReadOnlyList<string> TempFiles()
    {
        var tmp = Path.Join(Store.Root, ".quilt-mcp", "tmp");
        return Directory.Exists(tmp) ? [.. Directory.EnumerateFiles(tmp)] : [];
    }

    public void Dispose() => _temp.Dispose();
}

/// <summary>Content that hands out some bytes, then waits for a gate (or fails) before the rest: a put caught midway.</summary>
internal sealed class GatedStream(byte[] first, byte[] rest, Task gate, Exception? failAtGate = null) : Stream
{
    private readonly TaskCompletionSource _reachedGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;
    private bool _passedGate;

    /// <summary>Completes once the reader has taken every byte before the gate.</summary>
    public Task ReachedGate => _reachedGate.Task;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < first.Length)
        {
            var n = Math.Min(buffer.Length, first.Length - _position);
            first.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
        if (!_passedGate)
        {
            _reachedGate.TrySetResult();
            await gate.WaitAsync(cancellationToken);
            _passedGate = true;
            if (failAtGate is not null)
                throw failAtGate;
        }
        var offset = _position - first.Length;
        var count = Math.Min(buffer.Length, rest.Length - offset);
        rest.AsMemory(offset, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
