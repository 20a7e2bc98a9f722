using Microsoft.Extensions.Configuration;

namespace Quilt.Gateway.Configuration;

/// <summary>A configuration that cannot run; the message lists every problem and how to fix it.</summary>
public sealed class GatewayConfigurationException(IReadOnlyList<string> problems)
    : Exception("The gateway configuration is not valid:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>Reads <see cref="GatewayOptions"/> from a JSON file, the environment and the command line.</summary>
public static class ConfigurationLoader
{
    public const string EnvironmentPrefix = "QUILT_GATEWAY_";

    /// <summary>
    /// Builds the options: <paramref name="configFile"/> (if any), its roles file, environment variables prefixed
    /// QUILT_GATEWAY_ (Section__Key), then <paramref name="overrides"/> (--Section:Key=value). Not validated here.
    /// </summary>
    public static GatewayOptions Load(string? configFile, IReadOnlyList<string> overrides, IDictionary<string, string?>? environment = null)
    {
        var problems = new List<string>();
        string? baseDir = null;
        if (configFile is not null)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full))
                throw new GatewayConfigurationException([$"The config file '{configFile}' does not exist. Give an existing JSON file with --config."]);
            baseDir = Path.GetDirectoryName(full);
            configFile = full;
        }

        IConfigurationRoot Build(string? rolesFile)
        {
            var builder = new ConfigurationBuilder();
            if (configFile is not null)
                builder.AddJsonFile(configFile, optional: false, reloadOnChange: false);
            if (rolesFile is not null)
                builder.AddJsonFile(rolesFile, optional: false, reloadOnChange: false);
            if (environment is null)
            {
                builder.AddEnvironmentVariables(EnvironmentPrefix);
            }
            else
            {
                builder.AddInMemoryCollection(environment
                    .Where(kv => kv.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                    .Select(kv => new KeyValuePair<string, string?>(kv.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), kv.Value)));
            }
            builder.AddCommandLine(overrides.ToArray());
            return builder.Build();
        }

        IConfigurationRoot root;
        try
        {
            root = Build(null);
            var rolesFile = root["rolesFile"];
            if (!string.IsNullOrEmpty(rolesFile))
            {
                var resolved = baseDir is null ? Path.GetFullPath(rolesFile) : Path.GetFullPath(rolesFile, baseDir);
                if (!File.Exists(resolved))
                    throw new GatewayConfigurationException([$"rolesFile '{rolesFile}' does not exist (looked at {resolved})."]);
                root = Build(resolved);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new GatewayConfigurationException([$"A config file is not valid JSON: {ex.Message}"]);
        }
        catch (FormatException ex)
        {
            throw new GatewayConfigurationException([$"A config file or override could not be read: {ex.Message}"]);
        }

        var options = new GatewayOptions();
        try
        {
            // A misspelt setting is an error, not a silent default.
            root.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            problems.Add($"A setting is unknown or has a value of the wrong type: {ex.Message}");
        }
        if (problems.Count > 0)
            throw new GatewayConfigurationException(problems);

        // Relative paths in the file are relative to the file, not to wherever the service was started.
        if (baseDir is not null)
        {
            options.Jwt.JwksFile = Resolve(options.Jwt.JwksFile, baseDir);
            options.Jwt.Hs256SecretFile = Resolve(options.Jwt.Hs256SecretFile, baseDir);
            foreach (var role in options.Roles.Values)
                role.S3SecretAccessKeyFile = Resolve(role.S3SecretAccessKeyFile, baseDir);
            if (!string.IsNullOrEmpty(options.Audit.SqlitePath))
                options.Audit.SqlitePath = Resolve(options.Audit.SqlitePath, baseDir)!;
        }
        return options;
    }

    private static string? Resolve(string? path, string baseDir) =>
        string.IsNullOrEmpty(path) ? path : Path.GetFullPath(path, baseDir);
}
