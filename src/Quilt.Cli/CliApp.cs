using System.CommandLine;

namespace Quilt.Cli;

/// <summary>The quilt-mcp command tree. With no subcommand it serves MCP over stdio, as MCP clients expect.</summary>
internal static class CliApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Quilt data packages and S3 objects for people, scripts and AI assistants (MCP).");
        StorageOptions.AddTo(root);
        root.Subcommands.Add(PackageCommands.Create());
        root.Subcommands.Add(ObjectCommands.Create());
        root.Subcommands.Add(TableCommands.Create());
        root.Subcommands.Add(SearchCommands.Create());
        root.Subcommands.Add(CleanupCommand.Create());
        root.Subcommands.Add(RoleCommands.Create());
        ServeCommand.Attach(root);
        return root;
    }

    public static Task<int> RunAsync(string[] args) => Build().Parse(args).InvokeAsync();
}
