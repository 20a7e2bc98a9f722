using System.CommandLine;

namespace Quilt.Cli;

/// <summary>`quilt-mcp serve` (and the bare command): the MCP server. Placeholder until the MCP server lands.</summary>
internal static class ServeCommand
{
    public static void Attach(RootCommand root)
    {
        var serve = new Command("serve", "Run the MCP server (stdio by default).");
        serve.SetAction(_ => 0);
        root.Subcommands.Add(serve);
    }
}
