using Quilt.Bench;

// dotnet run -c Release --project bench/Quilt.Bench -- [all|hashing|package|manifest|mcp]
// Prints markdown tables; the figures in docs/benchmarks.md come from here.
var suite = args.Length > 0 ? args[0] : "all";
var output = Console.Out;
switch (suite)
{
    case "manifest-read":
        // Child process of the manifest suite: reads one manifest, so its peak memory is the read's own.
        return await ManifestBench.ReadOnceAsync(args[1], output);
    case "hashing":
        await RawSha256.PrintAsync(output);
        await HashingBench.RunAsync(output);
        break;
    case "package":
        await PackageBench.RunAsync(output);
        break;
    case "manifest":
        await ManifestBench.RunAsync(output);
        break;
    case "mcp":
        await McpServerBench.RunAsync(output);
        break;
    case "all":
        await RawSha256.PrintAsync(output);
        await HashingBench.RunAsync(output);
        output.WriteLine();
        await PackageBench.RunAsync(output);
        output.WriteLine();
        await ManifestBench.RunAsync(output);
        output.WriteLine();
        await McpServerBench.RunAsync(output);
        break;
    default:
        Console.Error.WriteLine($"Unknown suite '{suite}'. Valid suites are: all, hashing, package, manifest, mcp.");
        return 2;
}
return 0;
