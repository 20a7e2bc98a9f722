using System.Globalization;
using System.Net;
using Quilt.Operations;
using Quilt.Registry;

namespace Quilt.Mcp.Configuration;

/// <summary>
/// The outcome of resolving options: settings, or every problem found (all at once, so one restart fixes them); and
/// deprecation notes to print either way.
/// </summary>
public sealed record ResolvedSettings(ServerSettings? Settings, IReadOnlyList<string> Errors)
{
    public IReadOnlyList<string> Notes { get; init; } = [];

    public bool IsValid => Settings is not null && Errors.Count == 0;
}

/// <summary>
/// Turns command-line options and environment variables into validated <see cref="ServerSettings"/>.
/// A command-line option wins over its environment variable; each error names the option, the variable and a fix.
/// </summary>
public static class ServerSettingsResolver
{
    public const string BucketsVariable = "QUILT_MCP_BUCKETS";
    public const string ReadOnlyVariable = "QUILT_MCP_READ_ONLY";
    public const string MaxInlineBytesVariable = "QUILT_MCP_MAX_INLINE_BYTES";
    public const string MaxTextBytesVariable = "QUILT_MCP_MAX_TEXT_BYTES";
    public const string CatalogVariable = "QUILT_MCP_CATALOG";
    public const string ConfirmUploadBytesVariable = "QUILT_MCP_CONFIRM_UPLOAD_BYTES";
    public const string HttpVariable = "QUILT_MCP_HTTP";
    public const string UrlsVariable = "QUILT_MCP_URLS";
    public const string PortVariable = "QUILT_MCP_PORT";
    public const string AllowRemoteVariable = "QUILT_MCP_ALLOW_REMOTE";
    public const string OutputSchemasVariable = "QUILT_MCP_OUTPUT_SCHEMAS";

    /// <summary>Resolves against the process environment.</summary>
    public static ResolvedSettings Resolve(ServeInput input) => Resolve(input, Environment.GetEnvironmentVariable);

    /// <param name="input">The server's options, with the storage and registry options every command shares.</param>
    /// <param name="environment">Reads an environment variable.</param>
    public static ResolvedSettings Resolve(ServeInput input, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(environment);
        // Where the data is: resolved as for every other command, so the options and variables mean the same everywhere.
        var connection = ConnectionResolver.Resolve(input.Connection, environment);
        var errors = new List<string>(connection.Errors);
        string? Env(string name) => environment(name) is { Length: > 0 } value ? value.Trim() : null;

        var buckets = new List<string>();
        var bucketSource = input.Buckets.Count > 0 ? "--bucket" : BucketsVariable;
        var rawBuckets = input.Buckets.Count > 0
            ? input.Buckets.SelectMany(b => b.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            : (Env(BucketsVariable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var raw in rawBuckets)
        {
            var bucket = raw.StartsWith("s3://", StringComparison.Ordinal) ? raw["s3://".Length..].TrimEnd('/') : raw;
            if (Quilt.Storage.ObjectNames.BucketError(bucket) is { } error)
                errors.Add($"{bucketSource}: {error}. List bucket names, such as --bucket my-data or {BucketsVariable}=my-data,other-data.");
            else if (!buckets.Contains(bucket, StringComparer.Ordinal))
                buckets.Add(bucket);
        }

        var readOnly = input.ReadOnly ?? ParseBool(Env(ReadOnlyVariable), ReadOnlyVariable, errors) ?? false;

        var maxInline = ParseSize(input.MaxInlineBytes, "--max-inline-bytes", Env(MaxInlineBytesVariable), MaxInlineBytesVariable,
            ServerSettings.DefaultMaxInlineBytes, ServerSettings.MaxMaxInlineBytes, errors);
        var maxText = ParseSize(input.MaxTextBytes, "--max-text-bytes", Env(MaxTextBytesVariable), MaxTextBytesVariable,
            ServerSettings.DefaultMaxTextBytes, ServerSettings.MaxMaxTextBytes, errors);

        var confirmUpload = ParseSize(null, "", Env(ConfirmUploadBytesVariable), ConfirmUploadBytesVariable,
            ServerSettings.DefaultConfirmUploadBytes, long.MaxValue, errors);

        var outputSchemas = input.OutputSchemas ?? Env(OutputSchemasVariable) ?? "root";
        if (outputSchemas is not ("root" or "full"))
            errors.Add($"{(input.OutputSchemas is not null ? "--output-schemas" : OutputSchemasVariable)}: '{outputSchemas}' is not 'root' or 'full'. "
                + "Use full to list each tool's whole output schema, root (the default) for only its type.");

        var catalog = ResolveCatalog(input.Catalog ?? Env(CatalogVariable), input.Catalog is not null ? "--catalog" : CatalogVariable, errors);
        var http = ResolveHttp(input, Env, errors);
        http = AuthSettingsResolver.Apply(http, input, Env, connection.Choice?.IsRegistryMode == true, errors);

        IRegistryTokenSource? token = null;
        if (connection.Choice?.IsRegistryMode == true && http is null)
        {
            // Over stdio one token serves every call; over HTTP each request brings its caller's own.
            var tokenText = RegistryStores.TokenFromEnvironment(environment, out var problem);
            if (problem is not null)
                errors.Add(problem);
            else
                token = new FixedRegistryToken(tokenText!);
        }

        if (errors.Count > 0 || connection.Choice is not { } choice)
            return new ResolvedSettings(null, errors) { Notes = connection.Notes };
        return new ResolvedSettings(new ServerSettings
        {
            Storage = choice.Storage,
            RegistryUrl = choice.RegistryUrl,
            AllowedBuckets = buckets,
            ReadOnly = readOnly,
            MaxInlineBytes = maxInline,
            MaxTextBytes = (int)maxText,
            ConfirmUploadBytes = confirmUpload,
            FullOutputSchemas = outputSchemas == "full",
            CatalogHost = catalog,
            Http = http,
            DefaultRegistry = choice.RegistryBucket,
            RegistryToken = token,
        }, errors) { Notes = connection.Notes };
    }

    /// <summary>A catalog host (host[:port]) from what was given (a host or an https:// URL); null with a message in <paramref name="errors"/> when it is not one.</summary>
    public static string? ResolveCatalog(string? value, string source, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (value is null)
            return null;
        var text = value.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
            text = "https://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0
            || uri.AbsolutePath is not ("/" or "") || uri.Query.Length > 0)
        {
            errors.Add($"The catalog '{value}' ({source}) is not a host name such as catalog.example.com.");
            return null;
        }
        return uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
    }

    private static HttpSettings? ResolveHttp(ServeInput input, Func<string, string?> env, List<string> errors)
    {
        var http = input.Http ?? ParseBool(env(HttpVariable), HttpVariable, errors) ?? false;
        var allowRemote = input.AllowRemote ?? ParseBool(env(AllowRemoteVariable), AllowRemoteVariable, errors) ?? false;
        var urls = input.Urls.Count > 0
            ? input.Urls.SelectMany(u => u.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList()
            : (env(UrlsVariable) ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var urlsSource = input.Urls.Count > 0 ? "--urls" : UrlsVariable;
        int? port = input.Port;
        var portSource = "--port";
        if (port is null && env(PortVariable) is { } portText)
        {
            portSource = PortVariable;
            if (int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
                port = p;
            else
                errors.Add($"{PortVariable}='{portText}' is not a port number (0 to 65535).");
        }

        if (!http)
        {
            if (input.Urls.Count > 0 || input.Port is not null || input.AllowRemote == true)
                errors.Add("--urls, --port and --allow-remote apply to the HTTP transport only. Add --http, or remove them to serve over stdio.");
            return null;
        }

        if (port is not null && urls.Count > 0)
        {
            errors.Add($"Give either {portSource} or {urlsSource}, not both: --port N listens on http://127.0.0.1:N.");
            return null;
        }
        if (port is < 0 or > 65535)
        {
            errors.Add($"{portSource} {port} is not a port number (0 to 65535; 0 picks a free port).");
            return null;
        }
        if (urls.Count == 0)
            urls.Add($"http://127.0.0.1:{port ?? HttpSettings.DefaultPort}");

        var valid = new List<string>();
        foreach (var url in urls)
        {
            // Kestrel's wildcard forms ("*", "+") are not parseable as URIs: they mean "every interface".
            var probe = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.AbsolutePath != "/" || uri.Query.Length > 0)
            {
                errors.Add($"{urlsSource}: '{url}' is not a listening URL such as http://127.0.0.1:8765 (plain http, no path; put TLS in a reverse proxy).");
                continue;
            }
            if (!allowRemote && !IsLoopback(uri.Host))
            {
                errors.Add($"{urlsSource}: '{url}' listens beyond this machine, and the server has no authentication. "
                    + "Use a loopback address (127.0.0.1, [::1], localhost), or add --allow-remote if a proxy in front of it authenticates callers.");
                continue;
            }
            valid.Add(url);
        }
        return new HttpSettings { Urls = valid, AllowRemote = allowRemote };
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static bool? ParseBool(string? value, string source, List<string> errors)
    {
        if (value is null)
            return null;
        switch (value.ToLowerInvariant())
        {
            case "1" or "true" or "yes" or "on":
                return true;
            case "0" or "false" or "no" or "off":
                return false;
            default:
                errors.Add($"{source}='{value}' is not a yes/no value. Use true or false (1/0, yes/no, on/off also work).");
                return null;
        }
    }

    private static long ParseSize(string? option, string optionName, string? variable, string variableName, long defaultValue, long max, List<string> errors)
    {
        var (text, source) = option is not null ? (option, optionName) : (variable, variableName);
        if (text is null)
            return defaultValue;
        if (!TryParseSize(text, out var value) || value <= 0)
        {
            errors.Add($"{source} '{text}' is not a size. Give a positive number of bytes, optionally with a unit: 65536, 512KiB, 4MiB, 2MB.");
            return defaultValue;
        }
        if (value > max)
        {
            errors.Add($"{source} {text} is over the most this server allows ({max:N0} bytes). Large objects are for fetch with a destination path, not inline content.");
            return defaultValue;
        }
        return value;
    }

    /// <summary>Bytes with an optional unit: K/KiB, M/MiB, G/GiB are powers of 1024; KB, MB, GB powers of 1000.</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        bytes = 0;
        var s = text.Trim();
        var split = 0;
        while (split < s.Length && (char.IsAsciiDigit(s[split]) || s[split] == '.'))
            split++;
        if (split == 0 || !decimal.TryParse(s[..split], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            return false;
        long unit = s[split..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => 1024,
            "KB" => 1000,
            "M" or "MIB" => 1024 * 1024,
            "MB" => 1000 * 1000,
            "G" or "GIB" => 1024L * 1024 * 1024,
            "GB" => 1000L * 1000 * 1000,
            _ => 0,
        };
        if (unit == 0)
            return false;
        var total = number * unit;
        if (total > long.MaxValue || total != decimal.Truncate(total))
            return false;
        bytes = (long)total;
        return true;
    }
}
