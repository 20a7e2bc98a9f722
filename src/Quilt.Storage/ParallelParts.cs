using System.Buffers;

namespace Quilt.Storage;

/// <summary>
/// Parts of a multipart upload in flight (S3 or through a registry): a slot (and its buffer) is taken before a part is read and given back when its upload ends,
/// so at most Concurrency buffers exist at once. The first failure cancels every other part.
/// </summary>
public sealed class ParallelParts<T>(int concurrency, CancellationToken cancellationToken) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(concurrency, concurrency);
    private readonly CancellationTokenSource _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    private readonly List<Task<T>> _tasks = [];
    private Exception? _firstFailure;
    private long _done;

    public CancellationToken Token => _cts.Token;

    public long AddDone(long bytes) => Interlocked.Add(ref _done, bytes);

    public async Task WaitForSlotAsync(byte[]? buffer)
    {
        try
        {
            await _slots.WaitAsync(_cts.Token);
        }
        catch
        {
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Gives back a slot taken for a part that will not be uploaded.</summary>
    public void ReleaseUnused(byte[] buffer)
    {
        ArrayPool<byte>.Shared.Return(buffer);
        _slots.Release();
    }

    public void Start(byte[]? buffer, Func<CancellationToken, Task<T>> upload) =>
        _tasks.Add(Task.Run(async () =>
        {
            try
            {
                return await upload(_cts.Token);
            }
            catch (Exception ex)
            {
                if (!(ex is OperationCanceledException && _cts.IsCancellationRequested))
                    Interlocked.CompareExchange(ref _firstFailure, ex, null);
                await _cts.CancelAsync();
                throw;
            }
            finally
            {
                if (buffer is not null)
                    ArrayPool<byte>.Shared.Return(buffer);
                _slots.Release();
            }
        }));

    public async Task<T[]> WhenAllAsync() => await Task.WhenAll(_tasks);

    /// <summary>Cancels what is left, waits for it, and returns the failure to report: the first part's, else <paramref name="ex"/>.</summary>
    public async Task<Exception> StopAsync(Exception ex)
    {
        await _cts.CancelAsync();
        try
        {
            await Task.WhenAll(_tasks);
        }
        catch
        {
            // Each part's failure is already recorded; only the first one is reported.
        }
        return _firstFailure ?? ex;
    }

    public void Dispose()
    {
        _cts.Dispose();
        _slots.Dispose();
    }
}
