using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;

namespace Quilt.Gateway;

/// <summary>The command line; returns the process exit code (0 ok, 1 failure, 2 bad usage or configuration).</summary>
public static class GatewayCli
{
    private const string Usage = """
        quilt-gateway: a Quilt registry gateway (GraphQL at /graphql, downloads at /browse) in front of S3.

        Usage:
          quilt-gateway [serve] --config gateway.json [--Section:Key=value ...]
          quilt-gateway check --config gateway.json          validate the configuration and exit
          quilt-gateway check --probe --config gateway.json  also reach S3, the database, the JWKS URL and the upstream
          quilt-gateway token --config gateway.json --user NAME [--role R] [--roles A,B] [--admin] [--expires 1h]
                              a development token signed with the configured HS256 secret (not for production)
          quilt-gateway health [--url http://127.0.0.1:8080/healthz]   exit 0 when /healthz answers 200 (container checks)
          quilt-gateway audit --config gateway.json [--since 2025-01-01T00:00Z] [--until T] [--subject S]
                              [--action A] [--limit 100] [--json]

        Settings come from the JSON file, then environment variables QUILT_GATEWAY_Section__Key (for example
        QUILT_GATEWAY_JWT__HS256SECRET), then --Section:Key=value arguments. See docs/gateway.md.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var list = args.ToList();
        var command = list.Count > 0 && !list[0].StartsWith('-') ? list[0] : "serve";
        if (list.Count > 0 && list[0] == command)
            list.RemoveAt(0);
        if (list.Contains("--help") || list.Contains("-h") || command == "help")
        {
            await output.WriteLineAsync(Usage);
            return 0;
        }

        string? config = TakeOption(list, "--config");
        try
        {
            switch (command)
            {
                case "serve":
                case "check":
                {
                    var probe = command == "check" && list.Remove("--probe");
                    var options = ConfigurationLoader.Load(config, list);
                    OptionsValidator.Validate(options);
                    if (probe)
                        return await GatewayCommands.ProbeAsync(options, output);
                    if (command == "check")
                    {
                        await output.WriteLineAsync($"The configuration is valid: {options.Roles.Count} roles, listening on {options.Listen}.");
                        return 0;
                    }
                    var app = await GatewayHost.BuildAsync(options);
                    await app.RunAsync();
                    return 0;
                }
                case "audit":
                    return await AuditAsync(config, list, output, error);
                case "token":
                {
                    var user = TakeOption(list, "--user");
                    var role = TakeOption(list, "--role");
                    var roles = (TakeOption(list, "--roles") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    var expires = TakeOption(list, "--expires");
                    var admin = list.Remove("--admin");
                    var options = ConfigurationLoader.Load(config, list);
                    OptionsValidator.Validate(options);
                    return await GatewayCommands.TokenAsync(options, user, role, roles, admin, expires, output, error);
                }
                case "health":
                    return await GatewayCommands.HealthAsync(TakeOption(list, "--url") ?? "http://127.0.0.1:8080/healthz", output, error);
                default:
                    await error.WriteLineAsync($"Unknown command '{command}'. Valid commands are: serve, check, audit, token, health (see --help).");
                    return 2;
            }
        }
        catch (GatewayConfigurationException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return 2;
        }
        catch (UsageException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return 2;
        }
    }

    private static async Task<int> AuditAsync(string? config, List<string> args, TextWriter output, TextWriter error)
    {
        var query = new AuditQuery
        {
            Since = ParseTime(TakeOption(args, "--since"), "--since"),
            Until = ParseTime(TakeOption(args, "--until"), "--until"),
            Subject = TakeOption(args, "--subject"),
            Action = TakeOption(args, "--action"),
            Limit = ParseLimit(TakeOption(args, "--limit")),
        };
        var json = args.Remove("--json");
        var options = ConfigurationLoader.Load(config, args);
        OptionsValidator.ValidateAuditOnly(options);
        if (string.IsNullOrWhiteSpace(options.Audit.Postgres) && !File.Exists(options.Audit.SqlitePath))
        {
            await error.WriteLineAsync($"No audit database at {options.Audit.SqlitePath}: the gateway has not run with this configuration yet (or give --config).");
            return 1;
        }
        await using var store = GatewayHost.CreateStore(options);
        await store.InitializeAsync();
        var events = await store.ReadAsync(query);
        if (json)
        {
            foreach (var e in events)
            {
                var line = new JsonObject
                {
                    ["id"] = e.Id,
                    ["time"] = e.Time.ToString("O", CultureInfo.InvariantCulture),
                    ["subject"] = e.Subject,
                    ["role"] = e.Role,
                    ["action"] = e.Action,
                    ["target"] = e.Target,
                    ["outcome"] = e.Outcome,
                    ["details"] = e.Details?.DeepClone(),
                };
                await output.WriteLineAsync(line.ToJsonString());
            }
            return 0;
        }
        await output.WriteLineAsync("id\ttime\tsubject\trole\taction\toutcome\ttarget\tdetails");
        foreach (var e in events)
        {
            await output.WriteLineAsync(string.Join('\t', e.Id.ToString(CultureInfo.InvariantCulture), e.Time.ToString("O", CultureInfo.InvariantCulture),
                e.Subject, e.Role ?? "-", e.Action, e.Outcome, e.Target ?? "-", e.Details?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "-"));
        }
        return 0;
    }

    private static string? TakeOption(List<string> args, string name)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == name)
            {
                if (i + 1 >= args.Count)
                    throw new UsageException($"{name} needs a value.");
                var value = args[i + 1];
                args.RemoveRange(i, 2);
                return value;
            }
            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                var value = args[i][(name.Length + 1)..];
                args.RemoveAt(i);
                return value;
            }
        }
        return null;
    }

    private static DateTimeOffset? ParseTime(string? value, string name)
    {
        if (value is null)
            return null;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            return t;
        throw new UsageException($"{name} '{value}' is not a time: use ISO 8601, such as 2025-01-31T12:00:00Z or 2025-01-31.");
    }

    private static int ParseLimit(string? value)
    {
        if (value is null)
            return 100;
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 10_000)
            return n;
        throw new UsageException($"--limit '{value}' is not a number from 1 to 10000.");
    }

    private sealed class UsageException(string message) : Exception(message);
}
