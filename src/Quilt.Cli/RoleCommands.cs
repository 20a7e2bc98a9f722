using System.CommandLine;
using System.Text.Json.Nodes;

namespace Quilt.Cli;

/// <summary>`quilt-mcp role …`: the caller's role on a Quilt registry (registry mode).</summary>
internal static class RoleCommands
{
    public static Command Create()
    {
        var role = new Command("role", "Your role on a Quilt registry (registry mode: --registry-url): switch.");
        role.Subcommands.Add(SwitchCommand());
        return role;
    }

    private static Command SwitchCommand()
    {
        var name = new Argument<string?>("role") { Description = "The role to act as from now on (leave out to only list your roles).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("switch", "Switch to another of your roles (the registry's switchRole) and list your roles.") { name, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var result = await CliSupport.Operations(parse).Roles.SwitchAsync(parse.GetValue(name), ct).ConfigureAwait(false);
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(new JsonObject
                {
                    ["role"] = result.Role,
                    ["roles"] = new JsonArray([.. result.Roles.Select(r => (JsonNode)JsonValue.Create(r))]),
                    ["switched"] = result.Switched,
                });
            }
            else
            {
                Console.WriteLine($"{(result.Switched ? "switched to" : "acting as")} {result.Role ?? "(no role)"}; your roles: {string.Join(", ", result.Roles)}");
            }
            return 0;
        }));
        return command;
    }
}
