using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Quilt.Storage.S3;

namespace Quilt.Testing;

/// <summary>
/// The real S3 server the tests run against, one per test process. With QUILT_TEST_S3_ENDPOINT set (and
/// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, default TESTKEY/TESTSECRET) it uses that server, as the README's test
/// command does; otherwise the first <see cref="GetAsync"/> starts scripts/s3-server.sh on a free loopback port and
/// the server is stopped when the process exits. Either way the process then has AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL_S3 pointing at it, as the README's command sets them.
/// If no server can be had, every test that asks fails with the reason (never a silent skip).
/// The server's second user (its keys in QUILT_TEST_S3_ROLE_ACCESS_KEY/QUILT_TEST_S3_ROLE_SECRET_KEY, printed by the
/// script) owns nothing of the first; <see cref="RoleClient"/> fails with the reason when they are not set.
/// </summary>
public sealed class S3TestServer
{
    public const string EndpointVariable = "QUILT_TEST_S3_ENDPOINT";
    public const string RoleAccessKeyVariable = "QUILT_TEST_S3_ROLE_ACCESS_KEY";
    public const string RoleSecretKeyVariable = "QUILT_TEST_S3_ROLE_SECRET_KEY";

    private static readonly Lazy<Task<S3TestServer>> Shared = new(() => Task.Run(StartAsync), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private static int s_bucketCounter;
    private readonly string _secretKey;

    private S3TestServer(string endpoint, string accessKey, string secretKey, string region)
    {
        EndpointUrl = endpoint;
        Region = region;
        AccessKey = accessKey;
        _secretKey = secretKey;
        Client = CreateClient(endpoint, region, accessKey, secretKey);
    }

    private static AmazonS3Client CreateClient(string endpoint, string region, string accessKey, string secretKey) =>
        new(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            ServiceURL = endpoint,
            AuthenticationRegion = region,
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    /// <summary>The server's URL, such as http://127.0.0.1:41234.</summary>
    public string EndpointUrl { get; }

    public string Region { get; }

    public string AccessKey { get; }

    /// <summary>A client for raw S3 calls against the server (shared; do not dispose).</summary>
    public IAmazonS3 Client { get; }

    /// <summary>The second user's access key, or null when the environment does not name it.</summary>
    public string? RoleAccessKey { get; private set; }

    private string? _roleSecretKey;
    private AmazonS3Client? _roleClient;

    /// <summary>
    /// The second user's keys (a user that owns nothing of <see cref="AccessKey"/>'s). Throws, saying how to get them,
    /// when the environment does not name them: tests that need them fail, they are not skipped.
    /// </summary>
    public (string AccessKey, string SecretKey) RoleKeys() =>
        RoleAccessKey is { Length: > 0 } key && _roleSecretKey is { Length: > 0 } secret
            ? (key, secret)
            : throw new InvalidOperationException(
                $"This test needs the S3 server's second user, but {RoleAccessKeyVariable}/{RoleSecretKeyVariable} are not set. scripts/s3-server.sh start creates " +
                "the user and prints both; for a server started by an older script create it with radosgw-admin -c DIR/ceph.conf user create --uid=role " +
                $"--display-name=role --access-key=ROLEKEY --secret=ROLESECRET and export {RoleAccessKeyVariable}=ROLEKEY {RoleSecretKeyVariable}=ROLESECRET.");

    /// <summary>A client with the second user's keys (shared; do not dispose).</summary>
    public IAmazonS3 RoleClient()
    {
        var (key, secret) = RoleKeys();
        return LazyInitializer.EnsureInitialized(ref _roleClient, () => CreateClient(EndpointUrl, Region, key, secret));
    }

    /// <summary>A new empty bucket owned by the second user (the first user cannot read or write it).</summary>
    public async Task<string> CreateRoleBucketAsync(CancellationToken cancellationToken = default)
    {
        var name = $"r{Interlocked.Increment(ref s_bucketCounter)}-{Guid.NewGuid():N}"[..32];
        await RoleClient().PutBucketAsync(new PutBucketRequest { BucketName = name }, cancellationToken);
        return name;
    }

    /// <summary>Options that point an <see cref="S3ObjectStore"/> at the server (credentials come from the environment).</summary>
    public S3StoreOptions StoreOptions => new() { EndpointUrl = EndpointUrl, Region = Region, ForcePathStyle = true };

    /// <summary>The shared server, started on first use.</summary>
    public static Task<S3TestServer> GetAsync() => Shared.Value;

    /// <summary>A store over <see cref="Client"/>; disposing it leaves the shared client alone.</summary>
    public S3ObjectStore CreateStore(S3StoreOptions? options = null) => new(Client, options ?? StoreOptions);

    /// <summary>A new empty bucket with a unique name, so that tests can run in parallel without seeing each other.</summary>
    public async Task<string> CreateBucketAsync(bool versioned = false, CancellationToken cancellationToken = default)
    {
        var name = $"t{Interlocked.Increment(ref s_bucketCounter)}-{Guid.NewGuid():N}"[..32];
        await Client.PutBucketAsync(new PutBucketRequest { BucketName = name }, cancellationToken);
        if (versioned)
        {
            await Client.PutBucketVersioningAsync(new PutBucketVersioningRequest
            {
                BucketName = name,
                VersioningConfig = new S3BucketVersioningConfig { Status = VersionStatus.Enabled },
            }, cancellationToken);
        }
        return name;
    }

    private static async Task<S3TestServer> StartAsync()
    {
        var endpoint = Environment.GetEnvironmentVariable(EndpointVariable);
        S3TestServer server;
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            server = new S3TestServer(
                endpoint.TrimEnd('/'),
                Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 } key ? key : "TESTKEY",
                Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") is { Length: > 0 } secret ? secret : "TESTSECRET",
                Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } region ? region : "us-east-1");
            server.RoleAccessKey = Environment.GetEnvironmentVariable(RoleAccessKeyVariable);
            server._roleSecretKey = Environment.GetEnvironmentVariable(RoleSecretKeyVariable);
            await server.CheckAnswersAsync($"{EndpointVariable}={endpoint} is set, but");
        }
        else
        {
            server = await StartOwnServerAsync();
        }
        server.ExportEnvironment();
        return server;
    }

    private static async Task<S3TestServer> StartOwnServerAsync()
    {
        var root = FindRepositoryRoot();
        var script = Path.Combine(root, "scripts", "s3-server.sh");
        var parent = Path.Combine(Path.GetTempPath(), "quilt-s3-test");
        StopAbandonedServers(script, parent);

        var port = FreeLoopbackPort();
        var dir = Path.Combine(parent, $"{Environment.ProcessId}-{port}");
        var (exitCode, stdout, stderr) = await RunAsync(script, ["start", dir, port.ToString(System.Globalization.CultureInfo.InvariantCulture)], StartTimeout);
        if (exitCode != 0)
        {
            await RunAsync(script, ["stop", dir], TimeSpan.FromSeconds(60));
            throw new InvalidOperationException(
                $"Could not start the test S3 server ({script} start {dir} {port} exited with {exitCode}):\n{Tail(stderr)}\n" +
                "It needs Debian's ceph packages (the script installs them as root). Or start a server yourself and point the tests at it: " +
                $"eval \"$(scripts/s3-server.sh start /tmp/quilt-s3 7480)\" sets {EndpointVariable} and the AWS_* variables.");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RunAsync(script, ["stop", dir], TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();

        var env = ParseExports(stdout);
        var server = new S3TestServer(
            env.GetValueOrDefault("AWS_ENDPOINT_URL_S3") ?? $"http://127.0.0.1:{port}",
            env.GetValueOrDefault("AWS_ACCESS_KEY_ID") ?? "TESTKEY",
            env.GetValueOrDefault("AWS_SECRET_ACCESS_KEY") ?? "TESTSECRET",
            env.GetValueOrDefault("AWS_REGION") ?? "us-east-1")
        {
            RoleAccessKey = env.GetValueOrDefault(RoleAccessKeyVariable),
            _roleSecretKey = env.GetValueOrDefault(RoleSecretKeyVariable),
        };
        await server.CheckAnswersAsync($"{script} started a server in {dir}, but");
        return server;
    }

    private async Task CheckAnswersAsync(string context)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Client.ListBucketsAsync(new ListBucketsRequest(), timeout.Token);
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"{context} S3 at {EndpointUrl} does not answer ListBuckets with access key {AccessKey}: {ex.GetType().Name}: {ex.Message}. " +
                "Check that the server runs and that AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY match it.", ex);
        }
    }

    // Code that builds its own client from the environment (the stores' defaults, child processes) reaches this server.
    private void ExportEnvironment()
    {
        Environment.SetEnvironmentVariable(EndpointVariable, EndpointUrl);
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_S3", EndpointUrl);
        Environment.SetEnvironmentVariable("AWS_REGION", Region);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", _secretKey);
        if (RoleAccessKey is not null && _roleSecretKey is not null)
        {
            Environment.SetEnvironmentVariable(RoleAccessKeyVariable, RoleAccessKey);
            Environment.SetEnvironmentVariable(RoleSecretKeyVariable, _roleSecretKey);
        }
    }

    /// <summary>Servers left by test processes that were killed before they could stop theirs.</summary>
    private static void StopAbandonedServers(string script, string parent)
    {
        if (!Directory.Exists(parent))
            return;
        foreach (var dir in Directory.GetDirectories(parent))
        {
            var name = Path.GetFileName(dir);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(name[..dash], out var pid) || pid == Environment.ProcessId || IsAlive(pid))
                continue;
            RunAsync(script, ["stop", dir], TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot() =>
        Repository.FindRoot() ?? throw new InvalidOperationException(
            $"Could not find the repository root (a folder with QuiltMcp.sln) above {AppContext.BaseDirectory}, so scripts/s3-server.sh cannot be run. " +
            $"Start an S3 server yourself and set {EndpointVariable}.");

    private static Dictionary<string, string> ParseExports(string stdout)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith("export ", StringComparison.Ordinal))
                continue;
            foreach (var assignment in line["export ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = assignment.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                    env[assignment[..eq]] = assignment[(eq + 1)..];
            }
        }
        return env;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, string[] args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start bash to run " + script);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, await stdout, $"{await stderr}\n(timed out after {timeout.TotalSeconds:0} s)");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string Tail(string text, int lines = 40)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
