using System.CommandLine;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;

namespace Quilt.Cli;

/// <summary>
/// `quilt-mcp serve`, and the bare `quilt-mcp` (what MCP clients run): the MCP server over stdio, or Streamable HTTP
/// with --http. Options win over environment variables; bad settings stop the start with every problem listed.
/// Storage options come from <see cref="StorageOptions"/> on the root command.
/// </summary>
internal static class ServeCommand
{
    private static readonly Option<string[]> Buckets = new("--bucket")
    {
        Description = "A bucket the tools may use; repeat for several. Env: QUILT_MCP_BUCKETS (comma-separated). Default: every bucket the storage lists.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static readonly Option<bool> ReadOnly = new("--read-only") { Description = "Refuse every write (put, copy, delete, package create, patch and delete). Env: QUILT_MCP_READ_ONLY." };

    private static readonly Option<string?> OutputSchemas = new("--output-schemas")
    {
        Description = "root (default): tools/list gives each tool's output schema as its type only, to stay small; full: the whole schemas, for clients that validate results field by field. Env: QUILT_MCP_OUTPUT_SCHEMAS.",
    };

    private static readonly Option<string?> MaxInlineBytes = new("--max-inline-bytes")
    {
        Description = "Largest object returned inline by fetch, and largest inline put (e.g. 1MiB, the default). Env: QUILT_MCP_MAX_INLINE_BYTES.",
    };

    private static readonly Option<string?> MaxTextBytes = new("--max-text-bytes")
    {
        Description = "Most bytes the text tool reads in one call (default 256KiB). Env: QUILT_MCP_MAX_TEXT_BYTES.",
    };

    private static readonly Option<string?> Catalog = new("--catalog")
    {
        Description = "A Quilt catalog host (e.g. catalog.example.com) for catalog links. Env: QUILT_MCP_CATALOG.",
    };

    private static readonly Option<bool> Http = new("--http") { Description = "Serve Streamable HTTP instead of stdio (on 127.0.0.1:8765 unless told otherwise). Env: QUILT_MCP_HTTP." };

    private static readonly Option<string[]> Urls = new("--urls")
    {
        Description = "Listening URLs for --http, such as http://127.0.0.1:9000. Env: QUILT_MCP_URLS.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static readonly Option<int?> Port = new("--port") { Description = "Port on 127.0.0.1 for --http (0 picks a free one). Env: QUILT_MCP_PORT." };

    private static readonly Option<bool> AllowRemote = new("--allow-remote")
    {
        Description = "Allow --urls beyond loopback (the server has no authentication: put one in front). Env: QUILT_MCP_ALLOW_REMOTE.",
    };

    private static readonly Option<string?> AuthIssuer = new("--auth-issuer")
    {
        Description = "With --http: accept only OAuth access tokens from this authorization server (issuer URL), minted for this server. Env: QUILT_MCP_AUTH_ISSUER.",
    };

    private static readonly Option<string?> AuthJwks = new("--auth-jwks")
    {
        Description = "The issuer's JWKS URL (default: from the issuer's metadata). Env: QUILT_MCP_AUTH_JWKS.",
    };

    private static readonly Option<string?> Resource = new("--resource")
    {
        Description = "This server's URL as clients reach it (tokens' audience; default: the first listening endpoint). Env: QUILT_MCP_AUTH_RESOURCE.",
    };

    private static readonly Option<string?> RegistryBucket = new("--registry-bucket")
    {
        Description = "The bucket holding packages when a tool call names none (a name or s3://bucket). Env: QUILT_MCP_REGISTRY.",
    };

    // Deprecated: one option for two things. Still read (a URL as --registry-url, else as --registry-bucket), with a note.
    private static readonly Option<string?> Registry = new("--registry")
    {
        Description = "Deprecated: use --registry-url for a Quilt registry server, --registry-bucket for the bucket holding packages.",
    };

    private static readonly Option[] All =
        [Buckets, ReadOnly, OutputSchemas, MaxInlineBytes, MaxTextBytes, Catalog, Http, Urls, Port, AllowRemote, AuthIssuer, AuthJwks, Resource, RegistryBucket, Registry];

    public static void Attach(RootCommand root)
    {
        var serve = new Command("serve", "Run the MCP server: stdio by default (what MCP clients launch), Streamable HTTP with --http.");
        foreach (var option in All)
        {
            serve.Options.Add(option);
            root.Options.Add(option);
        }
        serve.SetAction(RunAsync);
        // MCP clients launch the bare command: it serves too.
        root.SetAction(RunAsync);
        root.Subcommands.Add(serve);
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        bool? Flag(Option<bool> option) => parse.GetResult(option) is null ? null : parse.GetValue(option);
        var input = new ServeInput
        {
            Buckets = parse.GetValue(Buckets) ?? [],
            ReadOnly = Flag(ReadOnly),
            MaxInlineBytes = parse.GetValue(MaxInlineBytes),
            MaxTextBytes = parse.GetValue(MaxTextBytes),
            Catalog = parse.GetValue(Catalog),
            Http = Flag(Http),
            Urls = parse.GetValue(Urls) ?? [],
            Port = parse.GetValue(Port),
            AllowRemote = Flag(AllowRemote),
            OutputSchemas = parse.GetValue(OutputSchemas),
            AuthIssuer = parse.GetValue(AuthIssuer),
            AuthJwks = parse.GetValue(AuthJwks),
            Resource = parse.GetValue(Resource),
            // The storage options (--storage, --root, --endpoint, ..., --registry-url) are the root command's, shared
            // with every command and resolved the same way; their errors are listed with the server's own.
            Connection = StorageOptions.Input(parse, parse.GetValue(RegistryBucket), parse.GetValue(Registry)),
        };
        var resolved = ServerSettingsResolver.Resolve(input);
        foreach (var note in resolved.Notes)
            await Console.Error.WriteLineAsync($"quilt-mcp: note: {note}");
        var errors = resolved.Errors;
        if (errors.Count > 0 || resolved.Settings is null)
        {
            foreach (var error in errors)
                await Console.Error.WriteLineAsync($"quilt-mcp: {error}");
            await Console.Error.WriteLineAsync("quilt-mcp: the server did not start. See 'quilt-mcp serve --help' for the options.");
            return 2;
        }
        try
        {
            await QuiltMcpServer.RunAsync(resolved.Settings!, cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: a normal way to stop a server.
        }
        catch (IOException e)
        {
            // Kestrel reports a port in use this way.
            await Console.Error.WriteLineAsync($"quilt-mcp: could not start: {e.Message}");
            return 1;
        }
        return 0;
    }
}
