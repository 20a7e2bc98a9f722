using Quilt.Operations;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>
/// Progress reaches a client at most every 1 % and 250 ms, never per file, and always ends at the total. The clock is
/// one the test moves by hand, so every count here is exact and nothing depends on how fast the machine is.
/// </summary>
public sealed class ProgressThrottleTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Updates_go_out_only_after_both_one_percent_and_250_ms_and_the_total_always()
    {
        var clock = new ManualClock();
        var sent = new RecordingUpdates();
        var throttle = new ProgressThrottle(sent, clock);

        throttle.Report(new ProgressUpdate(1, 1000, null)); // the first goes at once
        throttle.Report(new ProgressUpdate(500, 1000, null)); // far on, but too soon
        clock.Advance(TimeSpan.FromMilliseconds(300));
        throttle.Report(new ProgressUpdate(505, 1000, null)); // late enough, and 1 % on from the last sent
        clock.Advance(TimeSpan.FromMilliseconds(300));
        throttle.Report(new ProgressUpdate(510, 1000, null)); // late enough, but only 0.5 % on
        throttle.Report(new ProgressUpdate(400, 1000, null)); // goes back (a parallel worker): dropped
        throttle.Report(new ProgressUpdate(1000, 1000, null)); // reaches the total: always sent
        throttle.Report(new ProgressUpdate(1000, 1000, null));

        Assert.Equal([1.0, 505, 1000], sent.Values.Select(v => v.Done));
    }

    [Fact]
    public void Complete_sends_the_final_state_the_throttle_held_back()
    {
        var clock = new ManualClock();
        var sent = new RecordingUpdates();
        var throttle = new ProgressThrottle(sent, clock);
        throttle.Report(new ProgressUpdate(10, 100, "1/3"));
        throttle.Report(new ProgressUpdate(100, 100, "2/3")); // the bytes are all in, one entry is still to finish
        throttle.Report(new ProgressUpdate(100, 100, "3/3"));
        throttle.Complete(new ProgressUpdate(100, 100, "3/3"));
        throttle.Complete(new ProgressUpdate(100, 100, "3/3"));

        Assert.Equal(["1/3", "2/3", "3/3"], sent.Values.Select(v => v.Message));
    }

    [Fact]
    public void A_transfer_of_a_thousand_chunks_sends_at_most_about_a_hundred_updates()
    {
        var clock = new ManualClock();
        var sent = new RecordingUpdates();
        var transfer = new TransferProgress(sent, 1_000_000, "Uploaded", clock);
        for (var i = 0; i < 1000; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1)); // slow enough that only the 1 % rule thins them
            transfer.Add(1000);
        }

        Assert.InRange(sent.Values.Count, 90, 101);
        Assert.Equal(1_000_000, sent.Values[^1].Done);
        Assert.Equal("Uploaded 976.6 KiB of 976.6 KiB", sent.Values[^1].Message);
        // 1 % apart, except the last, which goes because it reaches the total.
        var beforeLast = sent.Values.SkipLast(1).ToList();
        Assert.True(beforeLast.Zip(beforeLast.Skip(1)).All(p => p.Second.Done - p.First.Done >= 10_000));
    }

    [Fact]
    public async Task A_package_of_2000_files_reports_about_a_hundred_updates_ending_at_the_total()
    {
        var ct = TestContext.Current.CancellationToken;
        var data = Directory.CreateDirectory(_root.Combine("data")).FullName;
        for (var i = 0; i < 2000; i++)
            await File.WriteAllTextAsync(Path.Combine(data, $"f{i:D4}.txt"), $"file {i:D4}", ct);
        var storeRoot = _root.Combine("store");
        var store = new LocalFolderStore(storeRoot);
        var ops = new QuiltOperations(new StoreConnection(store), new OperationSettings { Storage = new StorageSettings { LocalRoot = storeRoot } },
            new Quilt.Packages.PackageService(new Quilt.Packages.ObjectLocator([store], allowLocalFilesOutsideStores: true))).Packages;
        var sent = new RecordingUpdates();

        var written = await ops.CreateAsync(ops.Target("team/many", null, write: true),
            new PackageCreateInput([new PackageSourceSpec("sources[0]") { Uri = data }]), sent, ct);

        Assert.Equal(2000, written.Result.Entries);
        // Real time here, so how many go out depends on the machine: never per file, and never more than one per 1 %.
        Assert.InRange(sent.Values.Count, 1, 102);
        var last = sent.Values[^1];
        Assert.Equal((written.Result.Size, (double?)written.Result.Size, "2000/2000 entries"), (last.Done, last.Total, last.Message));
    }

    private sealed class RecordingUpdates : IProgress<ProgressUpdate>
    {
        private readonly List<ProgressUpdate> _values = [];

        public IReadOnlyList<ProgressUpdate> Values
        {
            get
            {
                lock (_values)
                    return [.. _values];
            }
        }

        public void Report(ProgressUpdate value)
        {
            lock (_values)
                _values.Add(value);
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
