namespace Quilt.Operations;

/// <summary>
/// The one place progress is thinned before it reaches a client: an update goes out only when both 1 % of the total and
/// 250 ms have passed since the last one sent (the rarer of the two), so a create of 2,000 files sends at most about a
/// hundred notifications, not 2,000. The first update goes at once, the one that reaches the total always goes, and
/// <see cref="Complete"/> sends the final state. Updates that go back (parallel workers) are dropped. Without a total,
/// one update per 250 ms. Safe to call from parallel workers.
/// </summary>
/// <param name="decorate">Applied only to the updates that are sent (e.g. to format a message), so dropped ones cost nothing.</param>
public sealed class ProgressThrottle(IProgress<ProgressUpdate> sink, TimeProvider? clock = null, Func<ProgressUpdate, ProgressUpdate>? decorate = null)
    : IProgress<ProgressUpdate>
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private ProgressUpdate? _last; // as reported, before decorate
    private long _lastAt;

    public void Report(ProgressUpdate value)
    {
        lock (_lock)
        {
            if (_last is { } last)
            {
                if (value.Done < last.Done)
                    return;
                var reachesTotal = value.Total is { } total && value.Done >= total && last.Done < total;
                if (!reachesTotal)
                {
                    var step = value.Total is { } t && t > 0 ? t / 100 : 0;
                    if (value.Done - last.Done < step || value.Done == last.Done || _clock.GetElapsedTime(_lastAt) < Interval)
                        return;
                }
            }
            Send(value);
        }
    }

    /// <summary>The final state, sent whatever the throttle held back (unless it is the update last sent).</summary>
    public void Complete(ProgressUpdate value)
    {
        lock (_lock)
        {
            if (_last == value)
                return;
            Send(value);
        }
    }

    private void Send(ProgressUpdate value)
    {
        _last = value;
        _lastAt = _clock.GetTimestamp();
        sink.Report(decorate is null ? value : decorate(value));
    }
}
