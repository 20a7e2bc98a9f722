namespace Quilt.Operations;

/// <summary>
/// Turns byte counts into progress updates, thinned by <see cref="ProgressThrottle"/> (at most every 1 % and 250 ms,
/// plus the one reaching the total). Safe to call from parallel part uploads.
/// </summary>
public sealed class TransferProgress(IProgress<ProgressUpdate>? sink, long total, string verb, TimeProvider? clock = null)
{
    private readonly Lock _lock = new();
    private readonly ProgressThrottle? _throttle = sink is null ? null
        : new ProgressThrottle(sink, clock, u => u with { Message = $"{verb} {FormatBytes((long)u.Done)} of {FormatBytes(total)}" });
    private long _done;

    /// <summary>Sets the absolute number of bytes done (store progress reports the running total of one object).</summary>
    public void Set(long done) => Update(() => _done = Math.Max(_done, done));

    public void Add(long bytes) => Update(() => _done += bytes);

    /// <summary>A progress that adds each value reported (bytes just moved) to the count.</summary>
    public IProgress<long> Increments => new Adder(this);

    /// <summary>A progress for one object starting at <paramref name="offset"/> bytes of the whole transfer.</summary>
    public IProgress<long> ForObject(long offset) => new Progress(this, offset);

    private void Update(Action change)
    {
        if (_throttle is null)
            return;
        // Reported under the lock, so that parallel parts cannot hand the throttle a smaller count after a larger one.
        lock (_lock)
        {
            change();
            _throttle.Report(new ProgressUpdate(_done, total, null));
        }
    }

    public static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.#} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB",
    };

    private sealed class Adder(TransferProgress owner) : IProgress<long>
    {
        public void Report(long value) => owner.Add(value);
    }

    private sealed class Progress(TransferProgress owner, long offset) : IProgress<long>
    {
        public void Report(long value) => owner.Set(offset + value);
    }
}
