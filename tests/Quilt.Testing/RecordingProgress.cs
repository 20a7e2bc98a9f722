namespace Quilt.Testing;

/// <summary>Records every report as it is made, in order (Progress&lt;T&gt; would post them to the thread pool, later and out of order).</summary>
public sealed class RecordingProgress : IProgress<long>
{
    private readonly List<long> _values = [];

    public IReadOnlyList<long> Values
    {
        get
        {
            lock (_values)
                return [.. _values];
        }
    }

    public void Report(long value)
    {
        lock (_values)
            _values.Add(value);
    }
}
