using Quilt.Bench;

// dotnet run -c Release --project bench/Quilt.Bench -- [all|hashing|package|manifest|s3|browse|gateway|mcp]
// Prints markdown tables, one per suite, in the order and shape of docs/benchmarks.md; scripts/bench.sh runs them all.
// mcp needs published servers (QUILT_BENCH_SERVERS, set by scripts/bench.sh). s3 and gateway need an S3 server (QUILT_TEST_S3_ENDPOINT); browse measures the S3 registry when one is given.
// QUILT_BENCH_QUICK=1: smaller sizes for a smoke run.
var suite = args.Length > 0 ? args[0] : "all";
var output = Console.Out;
var suites = new Dictionary<string, Func<TextWriter, Task>>(StringComparer.Ordinal)
{
    ["hashing"] = async w =>
    {
        await RawSha256.PrintAsync(w);
        await HashingBench.RunAsync(w);
    },
    ["package"] = PackageBench.RunAsync,
    ["manifest"] = ManifestBench.RunAsync,
    ["s3"] = S3Bench.RunAsync,
    ["browse"] = BrowseBench.RunAsync,
    ["gateway"] = GatewayBench.RunAsync,
    ["mcp"] = McpServerBench.RunAsync,
};

if (suite == "manifest-read")
{
    // Child process of the manifest suite: reads one manifest, so its peak memory is the read's own.
    return await ManifestBench.ReadOnceAsync(args[1], output);
}
if (suite == "all")
{
    foreach (var (name, run) in suites)
    {
        await output.WriteLineAsync($"## {name}");
        await output.WriteLineAsync();
        await run(output);
        await output.WriteLineAsync();
    }
    return 0;
}
if (!suites.TryGetValue(suite, out var one))
{
    await Console.Error.WriteLineAsync($"Unknown suite '{suite}'. Valid suites are: all, {string.Join(", ", suites.Keys)}.");
    return 2;
}
await one(output);
return 0;
