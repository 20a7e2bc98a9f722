using Quilt.Bench;

// dotnet run -c Release --project bench/Quilt.Bench -- [all | one or more of hashing package manifest s3 browse gateway mcp size tables search]
// Prints markdown tables, one per suite, in the order and shape of docs/benchmarks.md; scripts/bench.sh runs them all.
// mcp needs published servers (QUILT_BENCH_SERVERS, set by scripts/bench.sh). s3 and gateway need an S3 server (QUILT_TEST_S3_ENDPOINT); browse measures the S3 registry when one is given.
// QUILT_BENCH_QUICK=1: smaller sizes for a smoke run.
var output = Console.Out;
var suites = new Dictionary<string, Func<TextWriter, Task>>(StringComparer.Ordinal)
{
    ["hashing"] = async w =>
    {
        var openSsl = await RawSha256.PrintAsync(w);
        await HashingBench.RunAsync(w, openSsl);
    },
    ["package"] = PackageBench.RunAsync,
    ["manifest"] = ManifestBench.RunAsync,
    ["s3"] = S3Bench.RunAsync,
    ["browse"] = BrowseBench.RunAsync,
    ["gateway"] = GatewayBench.RunAsync,
    ["mcp"] = McpServerBench.RunAsync,
    ["size"] = SizeBench.RunAsync,
    ["tables"] = TableBench.RunAsync,
    ["search"] = SearchBench.RunAsync,
};

if (args is ["manifest-read", var manifestPath])
{
    // Child process of the manifest suite: reads one manifest, so its peak memory is the read's own.
    return await ManifestBench.ReadOnceAsync(manifestPath, output);
}
var chosen = args.Length == 0 || args is ["all"] ? [.. suites.Keys] : args;
if (chosen.FirstOrDefault(name => !suites.ContainsKey(name)) is { } unknown)
{
    await Console.Error.WriteLineAsync($"Unknown suite '{unknown}'. Valid suites are: all, {string.Join(", ", suites.Keys)}.");
    return 2;
}
foreach (var name in chosen)
{
    await output.WriteLineAsync($"## {name}");
    await output.WriteLineAsync();
    await suites[name](output);
    await output.WriteLineAsync();
}
return 0;
