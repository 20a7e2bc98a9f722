using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

[assembly: AssemblyFixture(typeof(Quilt.Gateway.Tests.PostgresServerLifetime))]

namespace Quilt.Gateway.Tests;

/// <summary>
/// A real PostgreSQL server for the tests, one per test process: the one QUILT_TEST_POSTGRES names (a connection
/// string), or a private cluster started from Debian's postgresql binaries on a free 127.0.0.1 port (as user postgres
/// when running as root), stopped and removed when the last test has run (<see cref="PostgresServerLifetime"/>).
/// Each test gets a database of its own.
/// </summary>
public static class PostgresServer
{
    public const string Variable = "QUILT_TEST_POSTGRES";

    private static readonly Lazy<Task<string>> Shared = new(() => Task.Run(StartAsync), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly SemaphoreSlim StopGate = new(1, 1);
    private static OwnCluster? _own;

    /// <summary>A connection string to a new, empty database.</summary>
    public static async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var admin = await Shared.Value;
        var name = $"gw_{Guid.NewGuid():N}"[..20];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    /// <summary>
    /// Closes a database to connections (ALLOW_CONNECTIONS false, and every session on it ended) or opens it again:
    /// an outage of one gateway's database, with its tables kept, without stopping the server other tests share.
    /// </summary>
    public static async Task SetConnectionsAllowedAsync(string connectionString, bool allowed, CancellationToken cancellationToken)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var connection = new NpgsqlConnection(await Shared.Value);
        await connection.OpenAsync(cancellationToken);
        var quoted = "\"" + database.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        await using (var alter = new NpgsqlCommand($"ALTER DATABASE {quoted} WITH ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", connection))
            await alter.ExecuteNonQueryAsync(cancellationToken);
        if (!allowed)
        {
            await using var end = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", connection);
            end.Parameters.Add(new NpgsqlParameter { Value = database });
            await end.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task<string> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
            return given;

        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException(
                $"PostgreSQL is not installed, so the PostgreSQL store cannot be tested. Install it (apt-get install postgresql) or set {Variable} to a connection string of a server to use.");
        }
        var root = Environment.UserName == "root";
        var port = FreePort();
        var dir = Path.Combine(Path.GetTempPath(), "quilt-gateway-pg", $"{Environment.ProcessId}-{port}");
        Directory.CreateDirectory(dir);
        if (root)
            await RunAsync("chown", ["-R", "postgres:postgres", Path.GetDirectoryName(dir)!], false);

        await RunAsync(Path.Combine(bin, "initdb"), ["-D", dir, "-A", "trust", "-U", "gateway", "-E", "UTF8", "--no-sync"], root);
        var settings = $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
        await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", dir, "-o", settings, "-l", Path.Combine(dir, "server.log"), "-w", "-t", "60", "start"], root);
        _own = new OwnCluster(bin, dir, root);
        // Only if the run ended without disposing its assembly fixtures (a crash): no server outlives the process.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAsync(removeFiles: false).GetAwaiter().GetResult();
        return $"Host=127.0.0.1;Port={port.ToString(CultureInfo.InvariantCulture)};Username=gateway;Database=postgres;Timeout=30";
    }

    /// <summary>
    /// Stops the private cluster (if this process started one) and, when asked, removes its files; once. The files are
    /// removed here, inside the run, and not at process exit: one database per test makes thousands of files, and
    /// deleting them at exit took longer than the 10 s the test runner waits for the process to end after the run
    /// (it then reports "foreground threads were left running" and fails a run whose tests all passed).
    /// </summary>
    public static async Task StopAsync(bool removeFiles)
    {
        await StopGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_own is not { } own)
                return;
            _own = null;
            try
            {
                await RunAsync(Path.Combine(own.Bin, "pg_ctl"), ["-D", own.Dir, "-m", "immediate", "-w", "stop"], own.AsPostgres);
                if (removeFiles)
                    Directory.Delete(own.Dir, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException or TimeoutException)
            {
            }
        }
        finally
        {
            StopGate.Release();
        }
    }

    private sealed record OwnCluster(string Bin, string Dir, bool AsPostgres);

    private static async Task RunAsync(string file, string[] args, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
                start.ArgumentList.Add(a);
        }
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"Starting the test PostgreSQL failed: {file} {string.Join(' ', args)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Stops and removes the test PostgreSQL cluster after the last test, before the runner's exit check.</summary>
public sealed class PostgresServerLifetime : IAsyncDisposable
{
    public async ValueTask DisposeAsync() => await PostgresServer.StopAsync(removeFiles: true);
}
